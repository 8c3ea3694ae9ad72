"""The rate-limit store: its state in /healthz, its switches in the log.

That a site whose Redis is gone keeps serving, with limits per worker, is shown on the real
stack (tests/test_stack.py): the limiter is one object per process, and a test that made it
fall back here would leave it counting in memory for the tests after it.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.limits import _StoreWatch
from tests.test_app import closed_port


@pytest.mark.parametrize(("overrides", "state"), [
    ({}, "per-process"),
    ({"RATELIMIT_ENABLED": False}, "off"),
    ({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:{port}/0"}, "degraded"),
])
def test_healthz_reports_the_store_and_stays_healthy(make_app: Callable[..., Flask],
                                                     overrides: dict[str, object],
                                                     state: str) -> None:
    """A store that does not answer is reported, not failed on: every worker still serves."""
    config = {key: value.format(port=closed_port()) if isinstance(value, str) else value
              for key, value in overrides.items()}
    response = make_app(**config).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok" and response.get_json()["limits"] == state


def test_each_switch_is_logged_once_without_the_password(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    watch = _StoreWatch()
    for in_memory in [False, True, True, True, False, False, True]:
        watch.note(in_memory, "redis://rayons:s3cret@cache.internal:6379/0")
    assert [record.levelname for record in caplog.records] == ["ERROR", "WARNING", "ERROR"]
    assert "s3cret" not in caplog.text
    assert "redis://rayons:***@cache.internal:6379/0 unreachable" in caplog.text
