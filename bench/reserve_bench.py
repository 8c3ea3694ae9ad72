"""Reservation throughput and contention through the real HTTP stack (`make bench-reserve`).

Measures, in one run against gunicorn (several workers) and the private PostGIS:
  baseline  GET /healthz (one trivial query) — what the stack costs without reserving;
  distinct  POST /api/v1/reservations on many different books: holds per second at saturation
            (every client sends its next request as soon as the last one answered);
  paced     the same requests arriving at a steady rate (`--paced-rate`, default half the
            saturation rate) from the same number of clients: the latency a reader sees while
            the stack keeps up;
  contended many readers racing for the few copies of one book, many rounds: how long a round
            takes and the oversell count (successes beyond the copies), which must be 0.
The mail worker (`flask --app wsgi mail work`, locmem backend) runs beside gunicorn on the same
cores, as in production, and the run reports how long after the last hold its mail was all sent
(`--no-mail-worker` for code that still sent mail inside the request).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.models import OutboxMail, Reservation, Shop, StockLine  # noqa: E402
from tests.factories import point  # noqa: E402
from tests.live_gunicorn import gunicorn  # noqa: E402

PREFIX = "bench-r-"


def ean13(body12: str) -> str:
    total = sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def build(factory: sessionmaker, shops: int, books: int, copies: int) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """Shops with `books` distinct ISBNs of `copies` copies each; returns slug -> ISBNs."""
    now = datetime.now(UTC)
    layout: dict[str, list[str]] = {}
    with factory() as session:
        session.execute(delete(Shop).where(Shop.slug.like(PREFIX + "%")))
        for s in range(shops):
            shop = Shop(slug=f"{PREFIX}{s}", name=f"Bench {s}", opening_hours="Mo-Su 00:00-24:00",
                        location=point(44.8 + s * 0.001, -0.6 + s * 0.001))
            session.add(shop)
            session.flush()
            isbns = [ean13(f"978299{s:03d}{b:03d}") for b in range(books)]
            session.add_all(StockLine(shop_id=shop.id, isbn13=i, code_kind="isbn",
                                      on_hand=copies, exported_at=now) for i in isbns)
            layout[shop.slug] = isbns
        session.commit()
    return layout


def cleanup(factory: sessionmaker) -> None:  # type: ignore[type-arg]
    with factory() as session:
        ids = select(Shop.id).where(Shop.slug.like(PREFIX + "%"))
        session.execute(delete(Reservation).where(Reservation.shop_id.in_(ids)))
        session.execute(delete(Shop).where(Shop.slug.like(PREFIX + "%")))
        session.commit()


def timed(call: object) -> tuple[int, float]:
    started = time.perf_counter()
    status = call()  # type: ignore[operator]
    return status, (time.perf_counter() - started) * 1000


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        return int(response.status)


def post_reservation(base: str, slug: str, isbn: str, n: int) -> int:
    body = json.dumps({"shop": slug, "isbn": isbn, "name": f"Lecteur {n}",
                       "email": f"bench{n}-{time.monotonic_ns()}@example.org"}).encode()
    request = urllib.request.Request(base + "/api/v1/reservations", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def run(calls: list, concurrency: int) -> tuple[Counter, list[float], float]:  # type: ignore[type-arg]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(timed, calls))
    elapsed = time.perf_counter() - started
    return Counter(s for s, _ in results), [ms for _, ms in results], elapsed


def run_paced(calls: list[Callable[[], int]], rate_per_s: float,
              concurrency: int) -> tuple[Counter[int], list[float], float]:
    """Start call k at k / rate_per_s seconds (an open loop); each latency counts from that
    planned start, so a request the clients could not send on time counts its wait too."""
    started = time.perf_counter()

    def at_its_time(k: int) -> tuple[int, float]:
        planned = started + k / rate_per_s
        time.sleep(max(0.0, planned - time.perf_counter()))
        status = calls[k]()
        return status, (time.perf_counter() - planned) * 1000

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(at_its_time, range(len(calls))))
    elapsed = time.perf_counter() - started
    return Counter(s for s, _ in results), [ms for _, ms in results], elapsed


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def mail_worker(url: str) -> subprocess.Popen[bytes]:
    """`flask mail work` on the benchmark's database, as the systemd unit runs it (`Nice=10`:
    requests come first, mail catches up when they leave the cores idle)."""
    env = {**os.environ, "DATABASE_URL": url, "MAIL_BACKEND": "locmem", "SECRET_KEY": "live-test"}
    return subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "flask", "--app", "wsgi",
                             "mail", "work"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def wait_for_outbox(factory: sessionmaker, timeout_s: float = 300) -> float:  # type: ignore[type-arg]
    """Seconds until no mail is left to send (the worker has caught up)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        with factory() as session:
            left = session.scalar(select(func.count()).select_from(OutboxMail).where(
                OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None)))
        if not left:
            break
        time.sleep(0.1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=100, help="contention rounds")
    parser.add_argument("--readers", type=int, default=100, help="readers per contention round")
    parser.add_argument("--copies", type=int, default=3, help="copies per contended book")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--paced-rate", type=float,
                        help="holds/s offered in the paced case [default: half of distinct's]")
    parser.add_argument("--mail-worker", action=argparse.BooleanOptionalAction, default=True,
                        help="run `flask mail work` beside gunicorn (off: code before #12)")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    factory = sessionmaker(bind=make_engine(url), expire_on_commit=False)
    books = max(1, args.requests // 20)
    layout = build(factory, shops=20, books=books, copies=args.requests)
    rows = []
    worker = mail_worker(url) if args.mail_worker else None
    drained_s = None
    try:
        with gunicorn(url, workers=args.workers, threads=8) as base:
            status, ms, elapsed = run([lambda: get(base + "/healthz")] * args.requests,
                                      args.concurrency)
            rows.append(("baseline GET /healthz", status, ms, elapsed, args.requests))
            pairs = [(slug, isbn) for slug, isbns in layout.items() for isbn in isbns]
            calls = [(lambda n=n: post_reservation(base, *pairs[n % len(pairs)], n))
                     for n in range(args.requests)]
            status, ms, elapsed = run(calls, args.concurrency)
            rows.append(("distinct books POST", status, ms, elapsed, args.requests))
            if worker is not None:
                drained_s = wait_for_outbox(factory)
            paced_rate = args.paced_rate or args.requests / elapsed / 2
            count = args.requests // 2
            calls = [(lambda n=n: post_reservation(base, *pairs[n % len(pairs)], n))
                     for n in range(args.requests, args.requests + count)]
            status, ms, elapsed = run_paced(calls, paced_rate, args.concurrency)
            rows.append((f"paced POST at {paced_rate:.0f}/s", status, ms, elapsed, count))
            oversold, round_ms = 0, []
            for r in range(args.rounds):
                slug = f"{PREFIX}c{r}"
                with factory() as session:
                    shop = Shop(slug=slug, name="Contended", opening_hours="Mo-Su 00:00-24:00",
                                location=point(44.84, -0.58))
                    session.add(shop)
                    session.flush()
                    session.add(StockLine(shop_id=shop.id, isbn13=ean13("978298000000"),
                                          code_kind="isbn", on_hand=args.copies,
                                          exported_at=datetime.now(UTC)))
                    session.commit()
                calls = [(lambda n=n, slug=slug: post_reservation(
                    base, slug, ean13("978298000000"), n)) for n in range(args.readers)]
                status, _ms, elapsed = run(calls, args.concurrency)
                oversold += max(0, status.get(201, 0) - args.copies)
                assert set(status) <= {201, 409}, status
                round_ms.append(elapsed * 1000)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        cleanup(factory)
    print(f"\nReservation benchmark ({args.workers} gunicorn workers x 8 threads, "
          f"{args.concurrency} concurrent clients)")
    print(f"{'case':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, status, ms, elapsed, count in rows:
        print(f"{name:28} {count / elapsed:8.0f} {pct(ms, 50):8.1f} {pct(ms, 99):8.1f}  "
              f"{dict(status)}")
    base_rps = rows[0][4] / rows[0][3]
    hold_rps = rows[1][4] / rows[1][3]
    print(f"holds/s vs baseline req/s: {hold_rps / base_rps:.0%}")
    if drained_s is not None:
        print(f"mail worker: every mail of the {args.requests} holds sent "
              f"{drained_s:.1f} s after the last hold answered")
    print(f"contention: {args.rounds} rounds x {args.readers} readers for {args.copies} copies: "
          f"round p50 {statistics.median(round_ms):.0f} ms; oversold: {oversold}")


if __name__ == "__main__":
    main()
