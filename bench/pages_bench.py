"""Pages benchmark: the home page and the shop list API at national scale (`make bench-pages`).

Builds a synthetic network of `bench-p-*` shops (set-based, in SQL) scattered around French towns
as the search benchmark places them, a third of them in one network, then calls each page through
the real app in-process (Flask's test client, one client, the app's own sessions), so that the
time measured is the server's alone: routing, queries, rendering, and nothing of a proxy or a
load generator. Every page is called in turns with `/healthz` (one trivial query), the baseline
measured in the same run, and the report gives bytes, p50 and p99 and the ratio of each p50 to
the baseline's. Run once per `--shops` scale, smallest first; the network is rebuilt for each.

A benchmark rather than a test: the numbers depend on the machine and on what else runs on it.
What is asserted is that every answer is a 200 (a shop's address, a 302); a page the code being
measured does not have (404: an older version, to compare with) is reported as absent.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# This checkout's app, not whichever one the shared virtualenv's editable install points at.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from bench_common import Step, libpq_url  # noqa: E402
from search_bench import scatter  # noqa: E402

from app import create_app  # noqa: E402

SLUG_PREFIX = "bench-p-"
NETWORK_SLUG = "bench-p-network"
# A shop as a directory shows it: hours, a phone number and a website, as most shops give them.
INSERT_SHOPS = """
    INSERT INTO shop (slug, name, address, postcode, city, country, location, phone, email,
                      website, timezone, opening_hours)
    SELECT %(prefix)s || lpad(t.n::text, 6, '0'), 'Librairie du Banc ' || t.n,
           t.n || ' rue du Banc d''essai', t.postcode, t.city, 'FR',
           ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography,
           '05 59 ' || lpad(mod(t.n, 100)::text, 2, '0') || ' 00 00', '',
           'https://librairie-' || t.n || '.example', 'Europe/Paris',
           'Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00'
    FROM unnest(%(cities)s::text[], %(postcodes)s::text[], %(lats)s::float8[],
                %(lons)s::float8[]) WITH ORDINALITY AS t(city, postcode, lat, lon, n)
"""
JOIN_NETWORK = """
    INSERT INTO shop_network (shop_id, network_id)
    SELECT s.id, n.id FROM shop s, network n
    WHERE s.slug LIKE %(prefix)s || '%%' AND mod(s.id, 3) = 0 AND n.slug = %(network)s
"""
BASELINE = "/healthz"
OK = (200, 302)  # a shop's address answers with a redirect to its page of the directory
DIRECTORY_PAGE = 50  # shops on a page of the directory (app.services.directory.PAGE_SIZE)


@dataclass(frozen=True)
class Measured:
    path: str
    size_bytes: int
    p50_ms: float
    p99_ms: float
    calls: int


def cleanup(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM shop WHERE slug LIKE %s || '%%'", (SLUG_PREFIX,))
    conn.execute("DELETE FROM network WHERE slug = %s", (NETWORK_SLUG,))
    conn.execute("VACUUM (ANALYZE) shop")


def build(conn: psycopg.Connection, shops: int) -> None:
    cleanup(conn)
    cities, postcodes, lats, lons = zip(*scatter(random.Random(3), shops), strict=True)
    conn.execute(INSERT_SHOPS, {"prefix": SLUG_PREFIX, "cities": list(cities),
                                "postcodes": list(postcodes), "lats": list(lats),
                                "lons": list(lons)})
    conn.execute("INSERT INTO network (slug, name) VALUES (%s, 'Réseau du banc d''essai')",
                 (NETWORK_SLUG,))
    conn.execute(JOIN_NETWORK, {"prefix": SLUG_PREFIX, "network": NETWORK_SLUG})
    conn.execute("VACUUM (ANALYZE) shop")
    conn.execute("VACUUM (ANALYZE) shop_network")


FRANCE = "-5.5,41.5,9.5,51.5"  # the map's first view of a national network
PARIS = "2.15,48.75,2.55,48.95"  # a town at zoom 12


def paths(shops: int) -> list[str]:
    """What a reader's browser and an API client ask for, the baseline first: the home page, a
    page in the middle of the directory, a network, the list near a place, the map's first
    views, a shop's address, and the API's first, middle and nearest pages."""
    middle = max(1, shops // DIRECTORY_PAGE // 2)
    return [BASELINE, "/", f"/?page={middle}", f"/?network={NETWORK_SLUG}", "/?lieu=Lyon",
            "/?lang=en", "/carte", f"/carte?bbox={FRANCE}", f"/carte?bbox={PARIS}",
            f"/librairies/{SLUG_PREFIX}{shops // 2:06d}", "/api/v1/shops",
            f"/api/v1/shops?page={middle}&limit={DIRECTORY_PAGE}",
            "/api/v1/shops?near=Lyon&limit=50"]


def percentile(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(urls: list[str], *, requests: int, budget_s: float) -> list[Measured]:
    """Each URL `requests` times, in turns (one call of each per round, so a busy moment of the
    shared machine slows them all alike), after one untimed call each; a URL stops being called
    once it has used `budget_s` seconds, so that the old whole-network pages at 30,000 shops
    still finish."""
    app = create_app({"DATABASE_URL": os.environ["DATABASE_URL"], "RATELIMIT_ENABLED": False})
    client = app.test_client()
    sizes: dict[str, int] = {}
    for url in list(urls):
        response = client.get(url)
        if response.status_code == 404:
            print(f"  .. {url}: absent in this version")
            urls.remove(url)
            continue
        assert response.status_code in OK, (url, response.status_code)
        sizes[url] = len(response.get_data())
    seconds: dict[str, list[float]] = {url: [] for url in urls}
    for _ in range(requests):
        for url in urls:
            if sum(seconds[url]) > budget_s:
                continue
            start = time.perf_counter()
            response = client.get(url)
            response.get_data()
            seconds[url].append(time.perf_counter() - start)
            assert response.status_code in OK, (url, response.status_code)
    return [Measured(url, sizes[url], percentile(seconds[url], 50) * 1000,
                     percentile(seconds[url], 99) * 1000, len(seconds[url])) for url in urls]


def report(shops: int, results: list[Measured]) -> None:
    base = next(m for m in results if m.path == BASELINE)
    print(f"\n{shops:,} shops ({shops // 3:,} in {NETWORK_SLUG}); in-process server time")
    print(f"{'path':48}{'bytes':>11}{'p50 ms':>9}{'p99 ms':>9}{'calls':>7}{'p50/base':>10}")
    for m in results:
        print(f"{m.path:48}{m.size_bytes:>11,}{m.p50_ms:>9.2f}{m.p99_ms:>9.2f}{m.calls:>7}"
              f"{m.p50_ms / base.p50_ms:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", type=int, nargs="+", default=[3000, 30000],
                        help="network sizes to measure, one after the other")
    parser.add_argument("--requests", type=int, default=200, help="calls per page and scale")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds of calls at most per page and scale")
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the last {SLUG_PREFIX}* network afterwards")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("DATABASE_URL is not set: run `make bench-pages`")
    url = libpq_url(os.environ["DATABASE_URL"])
    print(f"Rayons pages benchmark, {time.strftime('%Y-%m-%d %H:%M')}; load average (1 min) "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            for shops in args.shops:
                with Step(f"{shops:,} shops"):
                    build(conn, shops)
                with Step(f"measuring at {shops:,} shops"):
                    results = measure(paths(shops), requests=args.requests,
                                      budget_s=args.budget)
                report(shops, results)
        finally:
            if not args.keep:
                cleanup(conn)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
