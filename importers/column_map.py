"""A bookseller's own answer to "which column holds what", for files no guess reads right.

Headers are guessed by meaning (`importers.tabular`), but a headerless `EAN;PRIX;QTE` file or a
till's private labels cannot be read with certainty: the shop says once where the code, quantity
and price are, and which stock location is its shelf, and every later file of that shop (nightly
drop, push, upload) is read with that map (`Shop.feed_columns`). The CLI takes the same map as
`--columns code=EAN,quantity=Qté,location=Magasin:Boutique`.

A column is named by its header (compared after `fold_header`, so case and accents do not matter)
or, in a file without a header, by its position: `#1` is the first column.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Fields a map may place; `location` is the column naming each row's stock location and `keep`
# the location whose rows are the shop's shelf (other rows are skipped, never summed).
MAPPED_FIELDS = ("code", "quantity", "price", "title", "authors", "publisher", "location")
# `keep` for a location column whose values are shelves of the one shop (`Emplacement`: Vitrine,
# Réserve...): every row is read and a code's rows add up, as the bookseller said they should.
ALL_LOCATIONS = "*"


class ColumnMapError(ValueError):
    """A map that cannot be read; its message says which part, for the CLI and the upload form."""


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """One column: by header name, or by 1-based position when `position` is set."""

    name: str = ""
    position: int | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnRef:
        text = text.strip()
        if not text:
            raise ColumnMapError("empty column reference")
        if text.startswith("#"):
            number = text[1:]
            if not number.isdigit() or not 1 <= int(number) <= 10_000:
                raise ColumnMapError(f"column position {text!r}: expected #1, #2, ...")
            return cls(position=int(number))
        return cls(name=text)

    def __str__(self) -> str:
        return f"#{self.position}" if self.position is not None else self.name


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Where each field is; `code` is required, a map without `quantity` counts one per line."""

    code: ColumnRef
    quantity: ColumnRef | None = None
    price: ColumnRef | None = None
    title: ColumnRef | None = None
    authors: ColumnRef | None = None
    publisher: ColumnRef | None = None
    location: ColumnRef | None = None
    keep: str | None = None  # the location value whose rows are kept, or ALL_LOCATIONS

    def __post_init__(self) -> None:
        if (self.location is None) != (self.keep is None):
            raise ColumnMapError("a location column needs the location to keep, and vice versa")
        refs = list(self.refs().values())
        if any(ref.position is not None for ref in refs) and any(ref.name for ref in refs):
            raise ColumnMapError("name every column by its header, or every one by #position")

    def refs(self) -> dict[str, ColumnRef]:
        """The placed fields, in MAPPED_FIELDS order."""
        return {name: ref for name in MAPPED_FIELDS
                if isinstance(ref := getattr(self, name), ColumnRef)}

    @property
    def by_position(self) -> bool:
        """Columns given as #N: the file may have no header row at all."""
        return self.code.position is not None

    @classmethod
    def parse(cls, spec: str) -> ColumnMap:
        """`code=EAN,quantity=#3,location=Magasin:Boutique` (the CLI's `--columns`)."""
        values: dict[str, str] = {}
        for part in spec.split(","):
            field, sep, value = part.partition("=")
            field = field.strip()
            if not sep or field not in MAPPED_FIELDS:
                raise ColumnMapError(
                    f"{part.strip()!r}: expected field=column with field one of "
                    f"{', '.join(MAPPED_FIELDS)}")
            if field in values:
                raise ColumnMapError(f"{field} is given twice")
            values[field] = value
        location = values.pop("location", None)
        keep = None
        if location is not None:
            location, sep, keep = location.partition(":")
            if not sep or not keep.strip():
                raise ColumnMapError("location=COLUMN:VALUE names the location to keep")
            values["location"] = location
        return cls.from_json({**values, **({"keep": keep.strip()} if keep else {})})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ColumnMap:
        """The map as stored in `Shop.feed_columns` (what `as_json` wrote)."""
        if not isinstance(data.get("code"), str) or not data["code"].strip():
            raise ColumnMapError("the map must say which column holds the code (EAN/ISBN)")
        unknown = set(data) - {*MAPPED_FIELDS, "keep"}
        if unknown:
            raise ColumnMapError(f"unknown field(s): {', '.join(sorted(unknown))}")
        refs = {name: ColumnRef.parse(str(data[name])) for name in MAPPED_FIELDS
                if data.get(name) not in (None, "")}
        keep = data.get("keep")
        return cls(**refs, keep=str(keep) if keep not in (None, "") else None)

    def as_json(self) -> dict[str, str]:
        stored = {name: str(ref) for name, ref in self.refs().items()}
        return {**stored, "keep": self.keep} if self.keep is not None else stored


__all__ = ["ALL_LOCATIONS", "MAPPED_FIELDS", "ColumnMap", "ColumnMapError", "ColumnRef"]
