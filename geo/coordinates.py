"""Sanity checks on a shop's coordinates, so the spreadsheet import can reject a line precisely.

Booksellers copy coordinates by hand from map sites: decimal commas, swapped columns
and points dropped in the ocean are the usual mistakes. Each check raises
:class:`CoordinateError` with a stable reason code for the import report and a French
sentence for the bookseller.
"""

import math
import re
from dataclasses import dataclass
from typing import Final, Literal

_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)", re.ASCII)


class CoordinateError(ValueError):
    """A rejected coordinate: ``reason`` is for code and reports, ``str()`` for the bookseller."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class _Box:
    label: str
    south: float
    north: float
    west: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        # No box crosses the antimeridian, so plain comparisons are enough.
        return self.south <= lat <= self.north and self.west <= lon <= self.east


# Rounded extents of each territory, padded by about 0.5° so that border towns and
# coastal islands pass; they only catch gross mistakes, not a shop on the wrong street.
_FRANCE_METROPOLITAN: Final = _Box("France métropolitaine", 40.8, 51.6, -5.7, 10.1)
_FRANCE_OVERSEAS_BY_POSTCODE: Final = {
    # 971 also covers Saint-Barthélemy (97133) and Saint-Martin (97150).
    "971": _Box("Guadeloupe", 15.3, 18.7, -63.7, -60.5),
    "972": _Box("Martinique", 13.9, 15.4, -61.7, -60.3),
    "973": _Box("Guyane", 1.6, 6.3, -55.1, -51.1),
    "974": _Box("La Réunion", -21.9, -20.4, 54.7, 56.3),
    "975": _Box("Saint-Pierre-et-Miquelon", 46.2, 47.6, -56.9, -55.6),
    "976": _Box("Mayotte", -13.5, -12.1, 44.5, 45.8),
    "986": _Box("Wallis-et-Futuna", -14.9, -12.7, -178.7, -175.6),
    "987": _Box("Polynésie française", -28.4, -7.3, -155.2, -133.9),
    "988": _Box("Nouvelle-Calédonie", -23.5, -17.5, 162.5, 169.5),
}
_OTHER_COUNTRIES: Final = {
    "BE": _Box("Belgique", 49.0, 52.0, 2.0, 6.9),
    "LU": _Box("Luxembourg", 48.9, 50.7, 5.2, 7.0),
    "CH": _Box("Suisse", 45.3, 48.3, 5.4, 11.0),
    "MC": _Box("Monaco", 43.2, 44.3, 6.9, 7.9),
    # Only Québec: the Canadian shops Rayons lists are French-speaking ones.
    "CA": _Box("Québec", 44.5, 63.1, -80.3, -56.6),
}


def parse_coordinate(raw: str, *, field: Literal["latitude", "longitude"]) -> float:
    """Accept the decimal comma French spreadsheets produce, nothing looser.

    ``float()`` alone would take ``nan``, ``inf`` or ``1e3``, none of which is a
    coordinate anyone meant to type.
    """
    text = raw.strip()
    if not text:
        raise CoordinateError(field, "not_a_number", f"{field} manquante")
    if _NUMBER.fullmatch(text) is None:
        raise CoordinateError(field, "not_a_number", f"{field} « {text} » n'est pas un nombre")
    return float(text.replace(",", "."))


def check_location(lat: float, lon: float, *, country: str, postcode: str | None) -> None:
    """Reject impossible points, then points outside the shop's country.

    For France the postcode picks the overseas territory (974xx is La Réunion); without
    a postcode any French territory is accepted. Countries without a box only get the
    range checks.
    """
    for field, value, limit in (("latitude", lat, 90), ("longitude", lon, 180)):
        if not math.isfinite(value):
            raise CoordinateError(field, "not_a_number", f"{field} {value} n'est pas un nombre")
        if not -limit <= value <= limit:
            raise CoordinateError(
                field,
                f"{field}_out_of_range",
                f"{field} {_format(value)} hors de l'intervalle -{limit}..{limit}",
            )
    expected = _expected_area(country.strip().upper(), postcode)
    if expected is None:
        return
    area, boxes = expected
    if any(box.contains(lat, lon) for box in boxes):
        return
    if any(box.contains(lon, lat) for box in boxes):
        raise CoordinateError(
            "coordinates", "swapped_lat_lon", "latitude et longitude semblent inversées"
        )
    raise CoordinateError(
        "coordinates",
        "outside_country",
        f"le point ({_format(lat)}, {_format(lon)}) est hors de la zone attendue : {area}",
    )


def _expected_area(country: str, postcode: str | None) -> tuple[str, list[_Box]] | None:
    """The area named in the error message and its boxes; None when nothing is known."""
    if country != "FR":
        box = _OTHER_COUNTRIES.get(country)
        return None if box is None else (box.label, [box])
    if postcode is None or not postcode.strip():
        return "France", [_FRANCE_METROPOLITAN, *_FRANCE_OVERSEAS_BY_POSTCODE.values()]
    box = _FRANCE_OVERSEAS_BY_POSTCODE.get("".join(postcode.split())[:3], _FRANCE_METROPOLITAN)
    return box.label, [box]


def _format(value: float) -> str:
    """Print 95.0 as 95, like the bookseller probably typed it."""
    return f"{value:.10g}"
