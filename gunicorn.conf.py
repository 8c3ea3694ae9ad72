"""Production serving: `gunicorn -c gunicorn.conf.py wsgi:app`. Values can be overridden with
GUNICORN_* style flags on the command line or the variables below."""
import multiprocessing
import os

bind = os.environ.get("RAYONS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RAYONS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("RAYONS_THREADS", 4))
timeout = 30
graceful_timeout = 20
accesslog = "-"
# Reservation codes in URLs are logged as a hash prefix (app/access_log.py).
logger_class = "app.access_log.RedactingLogger"
# gunicorn believes no X-Forwarded-* header: the app does, from the proxies in TRUSTED_PROXIES
# (app/proxies.py), for the reader's address as well as the scheme, under every server alike.
forwarded_allow_ips = ""
