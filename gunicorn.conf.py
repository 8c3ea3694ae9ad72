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
forwarded_allow_ips = os.environ.get("RAYONS_FORWARDED_ALLOW_IPS", "127.0.0.1")
