"""Small text helpers shared by importers, forms and services, and reading text files the way
shops and coordinators really save them.

Excel and till software write UTF-8 with or without a BOM, or Windows-1252; the same loader serves
the shops spreadsheet (`app/services/shop_import.py`) and the stock files (`importers/`).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}


def utf16_encoding(sample: bytes) -> str | None:
    """`utf-16` (a BOM says which end), `utf-16-le` or `utf-16-be` (no BOM: every other byte of
    ASCII markup is NUL), or None for single-byte-based text. Windows tools save XML as UTF-16
    ("Unicode"); read as bytes it looks like binary, and a parser must be told."""
    if sample[:2] in _UTF16_BOMS:
        return _UTF16_BOMS[sample[:2]]
    head = sample[:64]
    if len(head) < 4 or head.count(0) < len(head) // 3:
        return None
    if not any(head[0::2]):
        return "utf-16-be"
    if not any(head[1::2]):
        return "utf-16-le"
    return None


def first_character(sample: bytes) -> str:
    """The first character that is not blank nor a BOM, in UTF-8 or UTF-16 text; "" if none."""
    encoding = utf16_encoding(sample)
    if encoding is None:
        return sample.removeprefix(UTF8_BOM).lstrip()[:1].decode("latin-1")
    text = sample[:512].decode(encoding, errors="replace")
    return text.lstrip("\ufeff \t\r\n")[:1]


class UnreadableText(ValueError):
    """The bytes are neither UTF-8 nor Windows-1252."""


def detect_encoding(data: bytes) -> str:
    """`utf-8-sig` when the bytes decode as UTF-8 (BOM or not), else `cp1252`.

    UTF-8 is tried first because valid UTF-8 with accents is almost never valid-looking cp1252
    by accident, while the reverse is common.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a sample is still UTF-8.
        if exc.start < len(data) - 3 or exc.reason != "unexpected end of data":
            try:
                data.decode("cp1252")
            except UnicodeDecodeError as exc1252:
                raise UnreadableText(
                    f"octet 0x{data[exc1252.start]:02x} at byte {exc1252.start} is neither UTF-8 "
                    "nor Windows-1252"
                ) from exc1252
            return "cp1252"
    return "utf-8-sig"


def read_text(path: Path, *, encoding: str | None = None) -> tuple[str, str]:
    """The whole file decoded, and the encoding used. For small files (spreadsheets of shops)."""
    data = path.read_bytes()
    chosen = encoding or detect_encoding(data)
    return data.decode(chosen), chosen


def sniff_delimiter(header_line: str, candidates: str = ";,\t|~") -> str:
    """The candidate that splits the header into the most fields (quotes respected)."""
    best, best_count = candidates[0], 1
    for delimiter in candidates:
        fields = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


def fold(value: str) -> str:
    """Lower-case ASCII without accents: `Périgueux` -> `perigueux`, `Œuvre` -> `oeuvre`."""
    value = value.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slugify(value: str, *, max_length: int = 80) -> str:
    """A URL-safe identifier from a name: `Librairie L'Échappée` -> `librairie-l-echappee`."""
    return _NON_ALNUM.sub("-", fold(value)).strip("-")[:max_length].rstrip("-")
