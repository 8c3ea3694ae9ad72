"""Hostile stock uploads through one real gunicorn worker (`make bench-hostile`).

Generates each file class a chaos probe of the push API found (tests/hostile_files.py), pushes
it with a valid token to a fresh gunicorn serving one worker with one thread, and reads that
worker's peak resident memory (VmHWM, reset before the push through /proc/<pid>/clear_refs) and
CPU seconds (/proc/<pid>/stat) around the request. `--root` serves another checkout (an older commit
in a temporary worktree) against the same database, for a before/after table.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.models import Shop  # noqa: E402
from app.services import shop_tokens  # noqa: E402
from tests import hostile_files  # noqa: E402
from tests.factories import point  # noqa: E402
from tests.live_gunicorn import serve  # noqa: E402

SLUG = "bench-hostile"
MB = 1 << 20
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Hostile:
    name: str
    write: Callable[[Path, float], Path] | None  # a file to push with its Content-Length
    stream_mb: int = 0  # else: a chunked body of this many megabytes, never on disk


CLASSES = (
    Hostile("190 MB single line", lambda d, s: hostile_files.long_line_csv(
        d / "line.csv", line_bytes=int(190 * MB * s))),
    Hostile("XLSX, 3 M shared strings", lambda d, s: hostile_files.xlsx_many_shared_strings(
        d / "strings.xlsx", count=int(3_000_000 * s))),
    Hostile("XLSX, huge declared dimensions", lambda d, s: hostile_files.xlsx_huge_dimensions(
        d / "grid.xlsx")),
    Hostile("XLSX, 1 M empty rows", lambda d, s: hostile_files.xlsx_empty_rows(
        d / "rows.xlsx", rows=int(1_000_000 * s))),
    Hostile("57 MB JSON", lambda d, s: hostile_files.large_json(
        d / "big.json", entries=int(1_090_000 * s))),
    Hostile("100,000-deep JSON", lambda d, s: hostile_files.deep_json(
        d / "deep.json", depth=100_000)),
    Hostile("250 MB chunked push", None, stream_mb=250),
)


@dataclass(frozen=True)
class Measure:
    name: str
    upload_mb: float
    status: str
    peak_mb: float
    cpu_s: float
    wall_s: float
    left_mb: float  # what the request left in UPLOAD_DIR


def worker_pid(master_pid: int) -> int:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM: Linux only")


def cpu_s(pid: int) -> float:
    # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def push(base: str, token: str, body: Path | Iterable[bytes]) -> str:
    """The answer's status and gate (or the connection's fate when the server hung up)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "X-Filename": "hostile"}
    try:
        if isinstance(body, Path):
            with body.open("rb") as handle:
                headers["Content-Length"] = str(body.stat().st_size)
                connection.request("PUT", f"/api/v1/shops/{SLUG}/stock", body=handle,
                                   headers=headers)
        else:
            connection.request("PUT", f"/api/v1/shops/{SLUG}/stock", body=body,
                               headers=headers, encode_chunked=True)
    except OSError as exc:  # the server answered (413) and closed while we were still sending
        try:
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException):
            return f"connection {type(exc).__name__}"
    else:
        answer = connection.getresponse()
    text = answer.read().decode(errors="replace")
    connection.close()
    try:
        document = json.loads(text)
    except ValueError:
        return str(answer.status)
    gate = document.get("gate") or document.get("code") or document.get("status")
    return f"{answer.status} {gate}"


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB


def measure(base: str, master_pid: int, token: str, hostile: Hostile, work: Path,
            uploads: Path, scale: float) -> Measure:
    print(f"  .. {hostile.name}", flush=True)
    body: Path | Iterator[bytes]
    if hostile.write is not None:
        body = hostile.write(work, scale)
        size = body.stat().st_size / MB
    else:
        body = hostile_files.stock_csv_chunks(int(hostile.stream_mb * MB * scale))
        size = hostile.stream_mb * scale
    pid = worker_pid(master_pid)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak RSS := current RSS
    cpu, start = cpu_s(pid), time.perf_counter()
    status = push(base, token, body)
    wall = time.perf_counter() - start
    if worker_pid(master_pid) != pid:
        return Measure(hostile.name, size, f"{status}, worker died", 0, 0, wall, 0)
    result = Measure(hostile.name, size, status, peak_mb(pid), cpu_s(pid) - cpu, wall,
                     folder_mb(uploads))
    if isinstance(body, Path):
        body.unlink()
    shutil.rmtree(uploads, ignore_errors=True)
    return result


def prepare(factory: sessionmaker[Session]) -> str:
    """The benchmark's shop, fresh (no previous run for the gates to compare), and its token."""
    with factory() as session:
        session.execute(delete(Shop).where(Shop.slug == SLUG))
        shop = Shop(slug=SLUG, name="Bench hostile", opening_hours="Mo-Su 00:00-24:00",
                    location=point(44.84, -0.58))
        session.add(shop)
        session.flush()
        token = shop_tokens.issue_token(session, shop=shop)
        session.commit()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="checkout to serve (default: this one)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="file sizes as a fraction of the probe's (quick runs: 0.1)")
    parser.add_argument("--only", default="", help="run only classes whose name contains this")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's shop")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    factory = sessionmaker(bind=make_engine(url), expire_on_commit=False)
    token = prepare(factory)
    results: list[tuple[float, Measure]] = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        work, uploads = Path(tmp) / "files", Path(tmp) / "uploads"
        work.mkdir()
        env = {"UPLOAD_DIR": str(uploads)}
        print(f"serving {args.root.resolve()}")
        for hostile in CLASSES:
            if args.only.lower() not in hostile.name.lower():
                continue
            # A fresh worker each: Python keeps the memory a previous push made it take.
            with serve(url, workers=1, threads=1, root=args.root.resolve(), env=env) as served:
                idle = peak_mb(worker_pid(served.master_pid))
                results.append((idle, measure(served.base, served.master_pid, token, hostile,
                                              work, uploads, args.scale)))
    if not args.keep:
        with factory() as session:
            session.execute(delete(Shop).where(Shop.slug == SLUG))
            session.commit()
    print("\n| class | upload MB | answer | worker RSS idle → peak MB | worker CPU s | wall s "
          "| left in UPLOAD_DIR MB |\n|---|---:|---|---:|---:|---:|---:|")
    for idle, r in results:
        print(f"| {r.name} | {r.upload_mb:.1f} | {r.status} | {idle:.0f} → {r.peak_mb:.0f} "
              f"| {r.cpu_s:.1f} | {r.wall_s:.1f} | {r.left_mb:.0f} |")


if __name__ == "__main__":
    main()
