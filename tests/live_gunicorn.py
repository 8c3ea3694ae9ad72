"""The real HTTP stack for concurrency tests: gunicorn with several workers on the test database."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, *, workers: int = 4, threads: int = 8,
             access_log: Path | None = None) -> Iterator[str]:
    """Serve wsgi:app with gunicorn.conf.py; yields the base URL. Rate limits are off: every
    request comes from 127.0.0.1, which is the point of a contention test. The access log is
    dropped unless `access_log` names a file for it."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "RAYONS_BIND": f"127.0.0.1:{port}",
           "RAYONS_WORKERS": str(workers), "RAYONS_THREADS": str(threads),
           "RATELIMIT_ENABLED": "0", "MAIL_BACKEND": "locmem", "SECRET_KEY": "live-test"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
         "--access-logfile", str(access_log or os.devnull),
         "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    # A server that never got healthy is still running: reading its stderr to
                    # the end would wait for ever.
                    process.kill()
                    raise RuntimeError("gunicorn did not start: "
                                       + (process.stderr.read().decode() if process.stderr else "")
                                       ) from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr:
            process.stderr.close()
