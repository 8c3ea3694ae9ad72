"""The stock pipeline: read -> validate -> stage -> gates -> merge -> report.

Every import starts in `importers/pipeline.py`; runs are read back with `importers/report.py`.
"""
