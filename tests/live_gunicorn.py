"""The real HTTP stack for concurrency tests: gunicorn with several workers on the test database."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    master_pid: int


@contextmanager
def gunicorn(database_url: str, *, workers: int = 4, threads: int = 8,
             access_log: Path | None = None, error_log: Path | None = None) -> Iterator[str]:
    """Serve wsgi:app with gunicorn.conf.py; yields the base URL. Rate limits are off: every
    request comes from 127.0.0.1, which is the point of a contention test. The access log is
    dropped unless `access_log` names a file for it; `error_log` keeps gunicorn's own log and
    the app's (tracebacks included) for the caller to read."""
    with serve(database_url, workers=workers, threads=threads, access_log=access_log,
               error_log=error_log) as served:
        yield served.base


@contextmanager
def serve(database_url: str, *, workers: int, threads: int, root: Path = ROOT,
          env: Mapping[str, str] | None = None, access_log: Path | None = None,
          error_log: Path | None = None) -> Iterator[Served]:
    """`gunicorn` for benchmarks too: the checkout to serve (`root`, e.g. an older commit's
    worktree) and extra environment, and the master's pid to find its workers by."""
    port = _free_port()
    full_env = {**os.environ, "DATABASE_URL": database_url, "RAYONS_BIND": f"127.0.0.1:{port}",
                "RAYONS_WORKERS": str(workers), "RAYONS_THREADS": str(threads),
                "RATELIMIT_ENABLED": "0", "MAIL_BACKEND": "locmem", "SECRET_KEY": "live-test",
                **(env or {})}
    # gunicorn's error log and Flask's (wsgi.errors) both go to stderr: a file, not a pipe nobody
    # reads while serving, where a long traceback would fill the pipe and block its worker.
    log = error_log.open("w+b") if error_log else tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
         "--access-logfile", str(access_log or os.devnull),
         "wsgi:app"], cwd=root, env=full_env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError("gunicorn did not start: " + log.read().decode()) from None
                time.sleep(0.2)
        yield Served(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
