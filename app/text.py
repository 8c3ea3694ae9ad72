"""Small text helpers shared by importers, forms and services."""
from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(value: str) -> str:
    """Lower-case ASCII without accents: `Périgueux` -> `perigueux`, `Œuvre` -> `oeuvre`."""
    value = value.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(value: str, *, max_length: int = 80) -> str:
    """A URL-safe identifier from a name: `Librairie L'Échappée` -> `librairie-l-echappee`."""
    return _NON_ALNUM.sub("-", fold(value)).strip("-")[:max_length].rstrip("-")
