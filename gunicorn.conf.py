"""Production serving: `gunicorn -c gunicorn.conf.py wsgi:app` (`rayons serve` when installed).
Values can be overridden with GUNICORN_* style flags on the command line or the variables below."""
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("RAYONS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RAYONS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("RAYONS_THREADS", 4))
timeout = 30
graceful_timeout = 20
accesslog = "-"
# Reservation codes in URLs are logged as a hash prefix, and each line carries the request id
# (app/access_log.py); JSON lines when LOG_FORMAT is json (the production default).
logger_class = "app.access_log.RedactingLogger"
access_log_format = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
                     '%({x-request-id}o)s %(M)sms')
# gunicorn believes no X-Forwarded-* header: the app does, from the proxies in TRUSTED_PROXIES
# (app/proxies.py), for the reader's address as well as the scheme, under every server alike.
forwarded_allow_ips = ""

# Prometheus counts each worker's requests in files of one folder (app/metrics.py), added up at
# scrape time. One folder per master, so two servers on a machine never mix or wipe their counts.
# A folder named by the operator is theirs to clean; the one made here goes with the master.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rayons-metrics-")


def child_exit(server, worker):
    """A dead worker's gauges must not count any more (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
