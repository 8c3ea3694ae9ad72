"""Turn what a reader types ("Pau", "33000", "12 rue des Carmes 64000 Pau") into a point, offline.

The search page must answer without any network, so the places ship with the project:
French communes, arrondissements of Paris/Lyon/Marseille and placeable former communes,
plus Belgian municipalities, built by ``scripts/build_gazetteer.py`` (sources and licences in
docs/data-sources.md). Every point is a commune's: street-level precision is the optional
online provider's job. The files are read on the first lookup, not at import, so that the
web workers that never search pay nothing.
"""

import csv
import functools
import gzip
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

# "keys" holds the folded names a row answers to, "|"-separated, the name's own first;
# "code" is the INSEE code (FR) or the NIS code (BE); "kind" "departement" rows only name one.
FIELDS: Final = ("kind", "name", "keys", "postcodes", "code", "dept", "lat", "lon", "population")
_FILES: Final = (("FR", "places_fr.csv.gz"), ("BE", "places_be.csv.gz"))
_DATA: Final = Path(__file__).parent / "data"

_SAINT: Final = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLE: Final = re.compile(r"^(?:le|la|les|l) ")
# Not a part of a longer number, nor of a decimal ("12,50"); a comma *after* a postcode is
# punctuation, as in the candidates' own labels "Villeneuve-sur-Lot (47300, Lot-et-Garonne)".
_POSTCODE: Final = re.compile(r"(?<!\d)(?<!\d[.,])(\d{5}|\d{4})(?!\d)(?![.,]\d)")
_LABEL: Final = re.compile(r"(?P<name>[^()]+) \((?P<postcode>\d{4,5})(?:, [^()]+)?\)")
_CEDEX: Final = re.compile(r"\bcedex\b(?:\s*\d{1,2}\b)?", re.IGNORECASE)
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz "
_DOMINANCE: Final = 10  # a namesake this many times more populous is the one meant
_MAX_CANDIDATES: Final = 10
_MAX_REMOTE_CHECKS: Final = 100
# A namesake farther than this from every bookshop lies outside every network's area: it is not
# chosen on population alone when another namesake is nearer the shops (`_choose`).
REMOTE_KM: Final = 150.0
_MIN_FUZZY: Final = 4  # shorter queries are too close to too many names to guess
_MIN_IN_ADDRESS: Final = 3  # "Y" or "Eu" at the end of an address is more likely noise
_MAX_TOWN_WORDS: Final = 8


@dataclass(frozen=True)
class Place:
    """A resolved place: a commune's point, whatever precision the reader typed."""

    label: str
    lat: float
    lon: float
    kind: str  # "commune" | "postcode" | "address"
    postcode: str | None
    country: str  # "FR" | "BE"
    # The gazetteer's own id of the commune (see `place_by_id`): what a link to one of several
    # candidates carries, so that the page it opens needs no second guess from the label.
    ident: str | None = None

# How far (km) each point is from the nearest bookshop, None when there is none: asked by
# `resolve_place` before it picks among namesakes (pages pass a look-up of the shops).
ShopDistances = Callable[[Sequence[tuple[float, float]]], list[float | None]]


class PlaceNotFound(LookupError):
    """Nothing matches; ``str()`` is the French sentence shown to the reader."""

    def __init__(self, query: str) -> None:
        super().__init__(f"Lieu introuvable : « {query} ». Essayez une ville ou un code postal.")
        self.query = query


class AmbiguousPlace(LookupError):
    """Several places match and none stands out; the page offers ``candidates`` to pick from."""

    def __init__(self, query: str, candidates: list[Place], name: str | None = None, *,
                 remote: Place | None = None) -> None:
        # ``name`` is the commune name the candidates share, when they do; ``remote`` the
        # namesake that population alone would have chosen, far from every bookshop.
        which = f"s'appellent « {name} »" if name else f"correspondent à « {query} »"
        message = f"Plusieurs lieux {which} : précisez le code postal."
        if remote is not None:
            message = (f"{remote.label} est loin de toutes les librairies du réseau : "
                       f"lequel de ces lieux vouliez-vous dire ?")
        super().__init__(message)
        self.query = query
        self.candidates = candidates
        self.name = name
        self.remote = remote


def fold(text: str) -> str:
    """Lower-case, unaccented, punctuation-free form under which names are compared.

    "St-Jean-de-Luz", "saint jean de luz" and "SAINT-JEAN-DE-LUZ" all fold to the same key.
    """
    text = re.sub(r"\bs/", " sur ", text.casefold().replace("œ", "oe").replace("æ", "ae"))
    # Decomposing then dropping what is not ASCII strips the accents ("é" -> "e" + U+0301).
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(_SAINT.get(word, word) for word in re.findall(r"[a-z0-9]+", text))


@dataclass(frozen=True, slots=True)
class _Entry:
    """One row of the data files."""

    kind: str  # "commune" | "arrondissement" | "delegated" (former commune)
    name: str
    keys: tuple[str, ...]
    code: str
    postcodes: tuple[str, ...]
    dept: str
    lat: float
    lon: float
    population: int
    country: str

    @property
    def ident(self) -> str:
        """`FR-47323`: country and official code (INSEE, NIS); a former commune keeps the code
        of the commune it merged into, so its id says it is one (`FR-01025-old`)."""
        return f"{self.country}-{self.code}" + ("-old" if self.kind == "delegated" else "")

    def place(self, kind: str, postcode: str | None = None) -> Place:
        """This entry as a :class:`Place`, labelled the way the reader will read it."""
        postcode = postcode or (self.postcodes[0] if self.postcodes else None)
        label = (f"{postcode} {self.name}" if kind == "postcode"
                 else f"{self.name} ({postcode or self.dept})")
        return Place(label, self.lat, self.lon, kind, postcode, self.country, self.ident)


class _Index:
    """The loaded files, indexed by folded name and by postcode."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[_Entry]] = defaultdict(list)
        self.by_bare_name: dict[str, list[_Entry]] = defaultdict(list)  # without "Le", "La"...
        self.by_postcode: dict[str, list[_Entry]] = defaultdict(list)
        self.by_ident: dict[str, _Entry] = {}
        self.dept_names: dict[str, str] = {}
        for country, filename in _FILES:
            with gzip.open(_DATA / filename, "rt", encoding="utf-8", newline="") as lines:
                rows = csv.reader(lines, delimiter=";")
                if tuple(next(rows)) != FIELDS:
                    raise ValueError(f"{filename}: unexpected columns, rebuild the gazetteer")
                for row in rows:
                    self._add(country, *row)
        for entries in self.by_postcode.values():
            entries.sort(key=lambda e: (e.kind != "arrondissement", e.kind == "delegated",
                                        -e.population))
        self.names = sorted(self.by_name)

    def _add(self, country: str, kind: str, name: str, keys: str, postcodes: str, code: str,
             dept: str, lat: str, lon: str, population: str) -> None:
        if kind == "departement":
            self.dept_names[code] = name
            return
        entry = _Entry(kind, name, tuple(keys.split("|")), code, tuple(postcodes.split()), dept,
                       float(lat), float(lon), int(population), country)
        self.by_ident[entry.ident] = entry
        for key in entry.keys:
            self.by_name[key].append(entry)
            if _ARTICLE.match(key):
                self.by_bare_name[_ARTICLE.sub("", key)].append(entry)
        for postcode in entry.postcodes:
            self.by_postcode[postcode].append(entry)

    def named(self, key: str) -> list[_Entry]:
        """Entries called ``key``; former communes only when no current one is."""
        entries = self.by_name.get(key) or self.by_bare_name.get(key, [])
        return [e for e in entries if e.kind != "delegated"] or entries

    def matching(self, key: str) -> list[_Entry]:
        """Entries called ``key``, joined by the communes whose name starts with it when one
        of those dwarfs them all.

        A reader typing "Evry" means Évry-Courcouronnes rather than the Yonne's Évry, and
        "Aix" is rarely the Corrèze's; but "Saint-Étienne" is the city, not its suburb
        Saint-Étienne-du-Rouvray. The population rule then picks the one meant, or asks.
        """
        exact = self.named(key)
        longer = self.starting_with(key) if exact else []
        biggest = max((e.population for e in exact), default=0)
        return exact + longer if any(e.population > _DOMINANCE * biggest for e in longer) else exact

    def starting_with(self, key: str) -> list[_Entry]:
        """Communes whose name starts with the words of ``key`` ("Bagneres" -> both Bagnères).

        Arrondissements are left out: "Lyon" is the city, not one of its parts.
        """
        start = bisect_left(self.names, key + " ")
        found: list[_Entry] = []
        for name in self.names[start:]:
            if not name.startswith(key + " "):
                break
            found += [entry for entry in self.named(name) if entry.kind == "commune"]
        return found

    def one_typo_away(self, key: str) -> list[str]:
        """Names one insertion, deletion, substitution or swap away from ``key``."""
        splits = [(key[:i], key[i:]) for i in range(len(key) + 1)]
        variants = {a + b[1:] for a, b in splits if b}
        variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        variants |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        variants |= {a + c + b for a, b in splits for c in _LETTERS}
        return sorted(v for v in variants - {key} if v in self.by_name)

    def candidate(self, entry: _Entry) -> Place:
        """An entry as offered in a list of namesakes: postcode and département or country."""
        where = "Belgique" if entry.country == "BE" else self.dept_names.get(entry.dept, entry.dept)
        postcode = entry.postcodes[0] if entry.postcodes else None
        label = f"{entry.name} ({', '.join(filter(None, [postcode, where]))})"
        return Place(label, entry.lat, entry.lon, "commune", postcode, entry.country, entry.ident)


@functools.cache
def _index() -> _Index:
    """The index, built on the first lookup of the process (~0.3 s) and kept."""
    return _Index()


def place_by_id(ident: str) -> Place | None:
    """The commune a candidate link names (`Place.ident`), labelled as it was offered."""
    entry = _index().by_ident.get(ident)
    return None if entry is None else _index().candidate(entry)


def resolve_place(text: str, *, shop_km: ShopDistances | None = None) -> Place:
    """Resolve a town, a postcode or an address to a commune's point.

    With ``shop_km``, the most populous of several namesakes is not chosen when it lies more
    than `REMOTE_KM` from every bookshop and another namesake is nearer one: the reader is
    asked (`AmbiguousPlace` with ``remote`` set, the nearer namesakes first, nearest first).
    Raises :class:`PlaceNotFound` or :class:`AmbiguousPlace`, whose ``str()`` is for the reader.
    """
    query = " ".join(text.split())
    cleaned = _CEDEX.sub(" ", query)
    index = _index()
    return (_by_label(index, query) or _by_postcode(index, cleaned)
            or _by_name(index, query, cleaned, shop_km))


def _by_label(index: _Index, text: str) -> Place | None:
    """A label this module wrote ("Villeneuve-sur-Lot (47300, Lot-et-Garonne)", "Pau (64000)"),
    typed again or kept in a link: the commune of that name and postcode, as it was."""
    match = _LABEL.fullmatch(text)
    if match is None:
        return None
    name, postcode = fold(match["name"]), match["postcode"]
    for entry in index.by_postcode.get(postcode, []):
        if entry.keys[0] == name:
            return index.candidate(entry)
    return None


def _by_postcode(index: _Index, text: str) -> Place | None:
    """The place of the last known postcode in ``text``, narrowed by the town named beside it.

    The postcode wins over a town that is not in it: street names often carry town names
    ("rue de Paris"). A 4-digit number only counts beside its town, or alone: in a French
    address it is more often a house number than a Belgian postcode.
    """
    for postcode in reversed(_POSTCODE.findall(text)):
        if postcode not in index.by_postcode:
            continue
        rest = fold(_POSTCODE.sub(" ", text))
        if not rest:
            return index.by_postcode[postcode][0].place("postcode", postcode)
        entry = _named_in(index, postcode, rest)
        if entry is None and len(postcode) == 5:
            entry = index.by_postcode[postcode][0]
        if entry is not None:
            return entry.place("address", postcode)
    return None


def _by_name(index: _Index, query: str, text: str, shop_km: ShopDistances | None) -> Place:
    """The town named by the text, the end of an address, a name's first words or one typo
    away, in that order of confidence."""
    key = fold(text)
    if not key or _POSTCODE.fullmatch(text.strip()):
        raise PlaceNotFound(query)
    if entries := index.matching(key):
        return _choose(index, query, entries, shop_km).place("commune")
    segments = [fold(segment) for segment in text.split(",")]
    for town in _town_guesses(segments):
        if entries := index.matching(town):
            return _choose(index, query, entries, shop_km).place("address")
    if len(key) >= _MIN_FUZZY and (entries := index.starting_with(key)):
        return _choose(index, query, entries, shop_km).place("commune")
    guesses = [(key, "commune")] + ([(segments[-1], "address")] if len(segments) > 1 else [])
    for guess, kind in guesses:
        names = index.one_typo_away(guess) if len(guess) >= _MIN_FUZZY else []
        if entries := [entry for name in names for entry in index.named(name)]:
            return _choose(index, query, entries, shop_km).place(kind)
    raise PlaceNotFound(query)


def _named_in(index: _Index, postcode: str, rest: str) -> _Entry | None:
    """The commune of ``postcode`` whose name appears in ``rest``, the longest name winning.

    An arrondissement also answers to its city's name, and comes first among equals, so
    "Paris 75011" is the 11th arrondissement rather than the centre of Paris.
    """
    found = []
    for rank, entry in enumerate(index.by_postcode[postcode]):
        keys = {*entry.keys, *(_ARTICLE.sub("", key) for key in entry.keys)}
        if entry.kind == "arrondissement":
            keys.add(entry.keys[0].split()[0])
        found += [(-len(key), rank, entry) for key in keys if f" {key} " in f" {rest} "]
    return min(found, key=lambda match: match[:2])[2] if found else None


def _town_guesses(segments: list[str]) -> Iterable[str]:
    """Where the town may sit in an address: a comma-separated part, then the last words."""
    if len(segments) > 1:
        yield from reversed([s for s in segments if len(s) >= _MIN_IN_ADDRESS])
    words = " ".join(segments).split()
    for size in range(min(len(words) - 1, _MAX_TOWN_WORDS), 0, -1):
        town = " ".join(words[-size:])
        if len(town) >= _MIN_IN_ADDRESS:
            yield town


def _choose(index: _Index, query: str, entries: list[_Entry],
            shop_km: ShopDistances | None) -> _Entry:
    """The entry meant among namesakes: the only one, or one far more populous than the rest
    unless it lies outside every network's area while another is nearer the bookshops (then
    the reader is asked). Namesakes offered to pick from come within reach of a bookshop
    first, then by population."""
    ranked = sorted(set(entries), key=lambda e: (-e.population, e.name, e.postcodes))
    dominant = len(ranked) == 1 or ranked[0].population > _DOMINANCE * ranked[1].population
    if len(ranked) == 1 or (dominant and shop_km is None):
        return ranked[0]
    # The most populous few are looked up (one "Saint" is 3,600 communes); the rest are unknown.
    checked = ranked[:_MAX_REMOTE_CHECKS]
    km = shop_km([(e.lat, e.lon) for e in checked]) if shop_km else [None] * len(checked)
    km += [None] * (len(ranked) - len(checked))
    if dominant:
        chosen_km = km[0]
        if chosen_km is not None and chosen_km <= REMOTE_KM:
            return ranked[0]
        nearer = sorted((d, i) for i, d in enumerate(km)
                        if i and d is not None and (chosen_km is None or d < chosen_km))
        if not nearer:
            return ranked[0]
        offered = [*(ranked[i] for _, i in nearer[:_MAX_CANDIDATES - 1]), ranked[0]]
    else:
        within = [d is not None and d <= REMOTE_KM for d in km]
        offered = [e for e, _ in sorted(zip(ranked, within, strict=True), key=lambda p: not p[1])]
        offered = offered[:_MAX_CANDIDATES]
    shared = offered[0].name if len({e.keys[0] for e in offered}) == 1 else None
    raise AmbiguousPlace(query, [index.candidate(e) for e in offered], shared,
                         remote=index.candidate(ranked[0]) if dominant else None)
