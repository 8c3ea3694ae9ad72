"""Which column holds what, read from a header's words rather than its exact spelling.

Till and e-commerce exports name the same thing a dozen ways (`Qté`, `Variant Inventory Qty`,
`Quantité en stock`, `inventory_Main_Outlet`, `In stock [Boutique]`), so an exact synonym list
refused whole files. Each header is cut into words (case and accents folded; spaces, `_`, `-`,
brackets and camelCase split) and scored per field with the words it contains; a word that
changes the meaning (`New`, `Alert`, `Cost`, `Compare`, `Supplier`...) rules a column out for
that field. A barcode column (EAN, GTIN, ISBN, barcode) beats the till's own reference (SKU,
Réf), which stays as the fallback of a line whose barcode cell is empty.

Several stock locations are never added up: several quantity columns that differ only by a
location name (Square's `Current Quantity <location>`, Lightspeed's `inventory_<outlet>`) refuse
the file here, and a location column (Shopify's inventory `Location`) is checked on the rows by
`importers.tabular`, until the shop's column map says which location is its shelf.

The guess keeps its evidence (`HeaderGuess.as_json`): which header was taken for what, on which
words, over which other headers; the import report stores it and the upload page shows it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Fields in the order they pick their column (a column serves one field).
FIELDS = ("code", "quantity", "price", "title", "authors", "publisher")
FIELD_NAMES = {"code": "code", "quantity": "quantité", "price": "prix", "title": "titre",
               "authors": "auteur", "publisher": "éditeur", "location": "emplacement"}

# Word (or space-separated phrase) -> weight. A barcode word outweighs an internal reference.
_BARCODE = 10
_INTERNAL = 4
WORDS: Mapping[str, Mapping[str, int]] = {
    "code": {
        "ean": _BARCODE, "gtin": _BARCODE, "isbn": _BARCODE, "ismn": _BARCODE,
        "barcode": _BARCODE, "code barre": _BARCODE, "codebarre": _BARCODE,
        "gencod": _BARCODE, "gencode": _BARCODE, "upc": _BARCODE,
        "sku": _INTERNAL, "ref": _INTERNAL, "reference": _INTERNAL, "code": 3,
    },
    "quantity": {
        "qty": 10, "qte": 10, "quantite": 10, "quantity": 10, "stock": 10, "available": 11,
        "disponible": 11, "dispo": 11, "soh": 10, "on hand": 9, "onhand": 9,
        "inventory": 6, "exemplaire": 6,
    },
    "price": {"price": 10, "prix": 10, "pvp": 10, "tarif": 8},
    "title": {"titre": 10, "title": 10, "libelle": 10, "designation": 10, "intitule": 8,
              "name": 6, "nom": 6},
    "authors": {"auteur": 10, "author": 10, "contributor": 8, "ecrivain": 8},
    # Not `vendor`: Square's and Shopify's vendor is as often the distributor as the publisher.
    "publisher": {"editeur": 10, "publisher": 10, "brand": 5, "marque": 5},
}
# Words that add to a price column's score: the price a reader pays, taxes included.
_PRICE_BONUS = frozenset({"ttc", "public", "retail", "vente", "current"})
# Words that rule a column out for a field: another meaning of the same noun. Not `reserve`,
# which folds `Réservé` (held) and `Réserve` (a stockroom, a location's name) alike.
VETOES: Mapping[str, frozenset[str]] = {
    "code": frozenset({"supplier", "fournisseur", "composite", "hs", "handle", "token", "tax",
                       "account", "postal", "promo", "category", "categorie", "parent",
                       "taxe", "tva", "client", "customer", "coo"}),
    "quantity": frozenset({
        "new", "nouveau", "nouvelle", "alert", "alerte", "low", "reorder", "restock", "min",
        "max", "minimum", "maximum", "mini", "maxi", "threshold", "seuil", "order", "ordered",
        "commande", "commandee", "incoming", "committed", "reserved", "reservee", "unavailable",
        "indisponible", "composite", "tracker", "track", "tracking", "policy", "sold", "sale",
        "vendu", "vente", "weight", "enabled", "previous", "ancien", "value", "valeur", "prix",
        "price", "cost", "cout", "level", "point", "transit", "attendu", "expected", "out",
        "continue", "selling", "sell", "oversell", "backorder", "rupture"}),
    "price": frozenset({
        "cost", "cout", "achat", "supply", "compare", "ht", "wholesale", "gros", "marge",
        "margin", "remise", "discount", "promo", "sale", "solde", "valeur", "value",
        "international", "tax", "taxe", "member", "loyalty", "fournisseur", "supplier"}),
    "title": frozenset({
        "option", "variation", "variant", "seo", "supplier", "fournisseur", "brand", "marque",
        "category", "categorie", "file", "image", "alt", "meta", "store", "location", "outlet",
        "emplacement", "magasin", "tax", "account", "customer", "client", "editeur", "publisher",
        "auteur", "author", "composite", "sous", "collection", "serie", "vendor", "type",
        "social", "media", "link", "permalink", "url", "gift"}),
    "authors": frozenset(),
    "publisher": frozenset({"code", "id"}),
}
# A location column names each row's stock location and nothing else (`Location`, `Magasin`).
LOCATION_WORDS = frozenset({"location", "emplacement", "outlet", "store", "magasin", "boutique",
                            "site", "depot", "entrepot", "warehouse", "lieu"})
_LOCATION_FILLER = frozenset({"name", "nom", "id", "de", "du", "la", "le", "code"})
# Words that say nothing about the field nor the location (`Available (not editable)`).
_NEUTRAL = frozenset({"current", "actuel", "actuelle", "not", "editable", "non", "modifiable",
                      "in", "en", "de", "du", "des", "la", "le", "the", "of", "at", "a",
                      "total", "physique", "physical", "reel", "real", "variant", "item",
                      "article", "s", "d", "l", "on", "hand", "qty", "quantity"})

# What the stored guess keeps of a header: a binary file's "header" must neither fill the run's
# row nor carry a NUL, which PostgreSQL text (and JSONB) cannot hold.
_MAX_HEADER_CHARS = 120
_MAX_HEADERS_KEPT = 256
_MAX_PASSED_OVER = 5


def _kept(header: str) -> str:
    return header[:_MAX_HEADER_CHARS].replace("\x00", "\ufffd")


_NOT_ALNUM = re.compile(r"[\W_]+")
# Distinct stock locations remembered while watching a location column: two are enough to refuse.
_MAX_LOCATIONS_SHOWN = 10


def _unaccent(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold_header(name: str) -> str:
    """`Qté`, `QTE `, `qte.` and a BOM-glued `Qte` all read `qte`: shops retype headers freely."""
    return _NOT_ALNUM.sub("", _unaccent(name.casefold()))


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])"
                    r"|(?<=[0-9])(?=[A-Za-z])")


def _fold(word: str) -> str:
    folded = _unaccent(word.casefold())
    # Plurals read as singulars (`Auteurs`, `Code-barres`, `Quantités`), `ss` kept (`address`).
    return folded[:-1] if len(folded) > 3 and folded.endswith("s") and folded[-2] != "s" else folded


def words_of(header: str) -> list[tuple[str, str]]:
    """(folded, as written) for each word: `Variant Inventory Qty`, `inventory_Main_Outlet`,
    `stockOnHand`, `Qté (magasin)` all split the way a reader would."""
    written = [part for part in _NOT_ALNUM.split(_CAMEL.sub(" ", header)) if part]
    folded = [_fold(part) for part in _NOT_ALNUM.split(_CAMEL.sub(" ", _unaccent(header)))
              if part]
    if len(written) != len(folded):  # a character NFKD splits in two: keep the folded form
        written = folded
    return list(zip(folded, written, strict=True))


# Every word a field's vocabulary uses: most headers of a wide export share none with a field
# and are passed over at once (a header row may hold thousands of columns).
_FIELD_WORDS = {name: frozenset(part for entry in vocabulary for part in entry.split())
                for name, vocabulary in WORDS.items()}


def _matches(words: Sequence[str], vocabulary: Mapping[str, int]) -> dict[str, int]:
    """The vocabulary entries present, phrases as consecutive words."""
    joined = f" {' '.join(words)} "
    return {entry: weight for entry, weight in vocabulary.items() if f" {entry} " in joined}


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why one column was taken for one field."""

    field: str
    position: int  # 0-based
    header: str
    words: tuple[str, ...]  # the words of the header that made the choice
    passed_over: tuple[str, ...] = ()  # other headers that could hold the field, weaker
    role: str = "main"  # main | fallback (the code read when the main code cell is empty)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(str(data["field"]), int(data["column"]) - 1, str(data["header"]),
                   tuple(data.get("words", ())), tuple(data.get("passed_over", ())),
                   str(data.get("role", "main")))

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "column": self.position + 1, "header": _kept(self.header),
                "words": list(self.words), "passed_over": list(map(_kept, self.passed_over)),
                "role": self.role}

    def sentence(self) -> str:
        """French, for the report."""
        words = ", ".join(f"« {word} »" for word in self.words)
        if self.role == "fallback":
            text = (f"code de secours : « {self.header} » (colonne {self.position + 1}), lu "
                    "quand la colonne du code-barres est vide")
        else:
            text = (f"{FIELD_NAMES[self.field]} : « {self.header} » (colonne "
                    f"{self.position + 1}, {'mots' if len(self.words) > 1 else 'mot'} {words})")
        if self.passed_over:
            text += ", préférée à " + ", ".join(f"« {h} »" for h in self.passed_over)
        return text


@dataclass(frozen=True)
class HeaderGuess:
    """The columns read from a header row and the evidence for each.

    `location_columns` lists quantity columns of several stock locations (the file is refused
    unless a map chooses one); `location_column` is the column naming each row's location.
    """

    headers: tuple[str, ...]
    positions: Mapping[str, int]
    evidence: tuple[Evidence, ...]
    location_column: int | None = None
    location_columns: tuple[str, ...] = ()
    locations: tuple[str, ...] = field(default=())  # the locations those columns are for

    @property
    def recognised(self) -> bool:
        return bool(self.positions)

    def as_json(self) -> dict[str, Any]:
        """A plain structure for the run's report and the upload page."""
        # A spreadsheet's rows come padded with empty cells: they say nothing.
        named = len(self.headers) - next(
            (i for i, header in enumerate(reversed(self.headers)) if header), len(self.headers))
        shown = self.headers[:min(named, _MAX_HEADERS_KEPT)]
        body: dict[str, Any] = {"header": list(map(_kept, shown)),
                                "columns": [e.as_json() for e in self.evidence]}
        if self.location_column is not None:
            body["location_column"] = _kept(self.headers[self.location_column])
        if self.location_columns:
            body["location_columns"] = list(map(_kept, self.location_columns))
            body["locations"] = list(map(_kept, self.locations))
        return body

    def suggested_map(self, *, quantity: str | None = None) -> str:
        """A `--columns` value the bookseller can adapt: the guessed code, quantity and price,
        with another quantity column when given."""
        chosen = {name: self.headers[self.positions[name]] for name in ("code", "quantity", "price")
                  if name in self.positions}
        if quantity:
            chosen["quantity"] = quantity
        return ",".join(f"{name}={_kept(header)}" for name, header in chosen.items())


@dataclass(slots=True)
class _Candidate:
    position: int
    score: int
    words: tuple[str, ...]
    rest: tuple[str, ...]  # words as written that are neither the field's nor neutral


def _candidates(field_name: str, headers: Sequence[list[tuple[str, str]]],
                taken: set[int]) -> list[_Candidate]:
    """Columns that may hold the field, best first, leftmost first on a tie."""
    found = []
    vocabulary, vetoes = WORDS[field_name], VETOES[field_name]
    for position, words in enumerate(headers):
        folded = [word for word, _ in words]
        present = set(folded)
        if position in taken or not present & _FIELD_WORDS[field_name] or vetoes & present:
            continue
        matched = _matches(folded, vocabulary)
        if not matched:
            continue
        score = max(matched.values())
        if field_name == "price":
            score += len(_PRICE_BONUS & present)
        elif field_name == "code" and score == _BARCODE:
            # `ISBN-13` over `ISBN-10` (each line of which would be converted and reported).
            score += ("13" in present) - ("10" in present)
        known = {part for entry in matched for part in entry.split()} | _NEUTRAL | _PRICE_BONUS
        # The location a per-location column is for: from its first to its last unknown word,
        # inner small words kept (`Current Quantity Librairie du Port`).
        unknown = [i for i, (word, _) in enumerate(words) if word not in known]
        rest = tuple(written for _, written in words[unknown[0]:unknown[-1] + 1]) if unknown \
            else ()
        found.append(_Candidate(position, score, tuple(sorted(matched)), rest))
    return sorted(found, key=lambda c: (-c.score, c.position))


def _is_location_column(words: list[tuple[str, str]]) -> bool:
    """Location words only: `inventory_Warehouse` or `Stock magasin` is a quantity column."""
    folded = {word for word, _ in words}
    return bool(folded & LOCATION_WORDS) and folded <= LOCATION_WORDS | _LOCATION_FILLER


def guess_columns(header_cells: Sequence[str]) -> HeaderGuess:
    """Each field's column in this header row, with the evidence for it."""
    headers = tuple(header_cells)
    split = [words_of(header) for header in headers]
    positions: dict[str, int] = {}
    evidence: list[Evidence] = []
    taken: set[int] = set()
    location_columns: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    quantity_place: tuple[str, ...] = ()
    for name in FIELDS:
        found = _candidates(name, split, taken)
        if not found:
            continue
        best = found[0]
        if name == "quantity":
            siblings = _same_words_other_place(best, found)
            if siblings:
                location_columns = tuple(headers[c.position] for c in [best, *siblings])
                locations = tuple(" ".join(c.rest) for c in [best, *siblings])
            quantity_place = best.rest
        elif name == "price":
            # Per-location prices (Loyverse's `Price [Boutique]`): the quantity's location's.
            best = next((c for c in found if c.score == best.score and c.rest == quantity_place
                         and c.rest), best)
        others = tuple(headers[c.position] for c in found if c is not best)[:_MAX_PASSED_OVER]
        positions[name] = best.position
        taken.add(best.position)
        evidence.append(Evidence(name, best.position, headers[best.position], best.words,
                                 others))
        if name == "code":
            fallback = next((c for c in found[1:] if c.score == _INTERNAL), None)
            if best.score >= _BARCODE - 1 and fallback is not None:
                positions["code_fallback"] = fallback.position
                taken.add(fallback.position)
                evidence.append(Evidence(name, fallback.position, headers[fallback.position],
                                         fallback.words, role="fallback"))
    location_column = next((position for position, words in enumerate(split)
                            if position not in taken and _is_location_column(words)), None)
    return HeaderGuess(headers, positions, tuple(evidence), location_column, location_columns,
                       locations)


def _same_words_other_place(best: _Candidate, found: list[_Candidate]) -> list[_Candidate]:
    """Quantity columns scored like the best one on the same words, for another location."""
    return [c for c in found[1:] if c.score == best.score and c.words == best.words
            and c.rest != best.rest]


class LocationWatch:
    """The stock locations a file's rows name (folded -> as first written), a few at most, in
    the column `column`; `base_map` is the `--columns` value a refusal suggests completing."""

    def __init__(self, column: str, base_map: str) -> None:
        self.column = column
        self.base_map = base_map
        self.seen: dict[str, str] = {}

    def see(self, location: str) -> None:
        if len(self.seen) < _MAX_LOCATIONS_SHOWN:
            self.seen.setdefault(fold_header(location), location)


def describe_guess(stored: Mapping[str, Any] | None) -> list[str]:
    """The report's sentences (French) for a guess stored by `HeaderGuess.as_json`."""
    if not stored:
        return []
    lines = [Evidence.from_json(column).sentence() for column in stored.get("columns", ())]
    if "location_column" in stored:
        lines.append(f"emplacement de chaque ligne : « {stored['location_column']} »")
    if stored.get("skipped_rows"):
        lines.append(f"{stored['skipped_rows']} ligne(s) sans code, quantité ni prix ignorée(s)")
    return lines


def several_location_columns(guess: HeaderGuess) -> str:
    """The refusal of a file with a quantity column per stock location, saying how to choose."""
    listed = ", ".join(f"« {_kept(header)} »" for header in guess.location_columns[:10])
    if len(guess.location_columns) > 10:
        listed += f"… ({len(guess.location_columns)} colonnes)"
    first = guess.location_columns[0]
    return (f"une colonne de quantité par emplacement de stock ({listed}) : Rayons n'additionne "
            "pas les stocks de plusieurs lieux. Indiquez la colonne de votre rayon dans la "
            "correspondance des colonnes (page « Importer mon stock », ou en ligne de commande "
            f"--columns {guess.suggested_map(quantity=first)}) ; le stock précédent est conservé")


def several_location_rows(column: str, seen: Sequence[str], base_map: str) -> str:
    """The refusal of a file with rows of several stock locations, saying how to choose;
    `base_map` is the `--columns` value (code, quantity...) the location is added to."""
    listed = ", ".join(f"« {_kept(value)} »" if value else "(vide)" for value in seen)
    keep = _kept(next((value for value in seen if value), "…"))
    return (f"lignes de plusieurs emplacements de stock dans la colonne « {_kept(column)} » "
            f"({listed}) : Rayons n'additionne pas les stocks de plusieurs lieux. Choisissez "
            "l'emplacement de votre rayon dans la correspondance des colonnes (page « Importer "
            "mon stock », ou en ligne de commande --columns "
            f"{base_map},location={_kept(column)}:{keep}) ; si ce sont des rayons d'une même "
            f"librairie, à additionner, location={_kept(column)}:* ; le stock précédent est "
            "conservé")


__all__ = ["FIELDS", "Evidence", "HeaderGuess", "LocationWatch", "describe_guess", "fold_header",
           "guess_columns", "several_location_columns", "several_location_rows", "words_of"]
