"""Onboard shops from a coordinator's spreadsheet (CSV), line by line, keeping the good lines.

A bad line never stops the others: it is reported with its line number, field, value and reason,
and the coordinator fixes it and imports the file again (re-importing updates shops by slug).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.email_address import InvalidEmail, checked_email
from app.models import Network, Shop
from app.models.shop import SLUG_PATTERN
from app.text import UnreadableText, fold, read_text, slugify, sniff_delimiter
from geo.coordinates import CoordinateError, check_location, parse_coordinate
from geo.opening_hours import HoursError, parse_hours
from geo.timezones import default_timezone

REQUIRED_COLUMNS = ("name", "latitude", "longitude")
# Header spellings coordinators actually use, folded (lower-case, no accents, `_` for spaces).
SYNONYMS = {
    "nom": "name", "librairie": "name", "adresse": "address", "rue": "address",
    "code_postal": "postcode", "cp": "postcode", "zip": "postcode", "postal_code": "postcode",
    "ville": "city", "commune": "city", "town": "city", "pays": "country",
    "lat": "latitude", "lon": "longitude", "lng": "longitude", "long": "longitude",
    "telephone": "phone", "tel": "phone", "courriel": "email", "mail": "email", "e_mail": "email",
    "site": "website", "site_web": "website", "site_internet": "website", "url": "website",
    "horaires": "opening_hours", "hours": "opening_hours", "heures_d_ouverture": "opening_hours",
    "reseaux": "networks", "reseau": "networks", "network": "networks",
}
_SLUG_RE = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class Rejection:
    line: int
    field: str
    value: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "value": self.value,
                "reason": self.reason, "message": self.message}


@dataclass
class ShopImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {"created": len(self.created), "updated": len(self.updated),
                "created_slugs": self.created, "updated_slugs": self.updated,
                "rejected": [r.as_dict() for r in self.rejected]}


class LineRejected(Exception):
    def __init__(self, field_name: str, value: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.rejection_args = (field_name, value, reason, message)


@dataclass(frozen=True)
class ShopRow:
    """One validated line, ready to be written."""

    line: int
    slug: str
    values: dict[str, Any]
    networks: list[str] | None


def canonical_column(header: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", fold(header.strip().lstrip("\ufeff"))).strip("_")
    return SYNONYMS.get(key, key)


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The canonical column names and the data rows with their physical line numbers."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(first_line, ";,\t"))
    header = [canonical_column(h) for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        start = reader.line_num + 1
        for raw in reader:
            if any(cell.strip() for cell in raw):
                yield start, {name: (raw[i].strip() if i < len(raw) else "")
                              for i, name in enumerate(header)}
            start = reader.line_num + 1

    return header, rows()


def validate_row(line: int, row: dict[str, str], *, has_networks: bool) -> ShopRow:
    """Check one line; raise LineRejected naming the first field that is wrong."""
    name = row.get("name", "")
    if not name:
        raise LineRejected("name", name, "missing_name", "le nom de la librairie est vide")
    slug = row.get("slug", "").lower() or slugify(name)
    if not _SLUG_RE.match(slug):
        raise LineRejected("slug", row.get("slug", ""), "invalid_slug",
                           "identifiant invalide : lettres minuscules, chiffres et tirets")
    country = (row.get("country") or "FR").upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise LineRejected("country", row.get("country", ""), "invalid_country",
                           "code pays attendu sur deux lettres (FR, BE, CA...)")
    postcode = row.get("postcode", "")
    try:
        lat = parse_coordinate(row.get("latitude", ""), field="latitude")
        lon = parse_coordinate(row.get("longitude", ""), field="longitude")
        check_location(lat, lon, country=country, postcode=postcode or None)
    except CoordinateError as exc:
        raw = (row.get(exc.field, "") if exc.field in row
               else f"{row.get('latitude')}, {row.get('longitude')}")
        raise LineRejected(exc.field, raw, exc.reason, str(exc)) from exc
    timezone = default_timezone(country, postcode)
    hours_text = row.get("opening_hours", "")
    if hours_text:
        try:
            parse_hours(hours_text, timezone=timezone, country=country)
        except HoursError as exc:
            raise LineRejected("opening_hours", hours_text, "invalid_opening_hours",
                               "horaires illisibles (syntaxe OpenStreetMap attendue) : "
                               f"{exc}") from exc
    email = row.get("email", "")
    if email:
        try:
            email = checked_email(email)
        except InvalidEmail as exc:
            raise LineRejected("email", email, "invalid_email",
                               "adresse e-mail invalide") from exc
    website = row.get("website", "")
    if website and not re.match(r"https?://", website):
        website = "https://" + website
    networks = None
    if has_networks:
        networks = [n.strip() for n in row.get("networks", "").split(",") if n.strip()]
    values = {
        "name": name, "address": row.get("address", ""), "postcode": postcode,
        "city": row.get("city", ""), "country": country, "timezone": timezone,
        "location": from_shape(Point(lon, lat), srid=4326),
        "phone": row.get("phone", ""), "email": email, "website": website,
        "opening_hours": hours_text,
    }
    return ShopRow(line=line, slug=slug, values=values, networks=networks)


def _network(session: Session, name: str, cache: dict[str, Network]) -> Network:
    if name not in cache:
        network = session.scalar(select(Network).where(Network.name == name))
        if network is None:
            network = Network(name=name, slug=slugify(name))
            session.add(network)
        cache[name] = network
    return cache[name]


def apply_row(session: Session, row: ShopRow, networks: dict[str, Network]) -> bool:
    """Create or update the shop; True when it was created."""
    shop = session.scalar(select(Shop).where(Shop.slug == row.slug))
    created = shop is None
    if shop is None:
        shop = Shop(slug=row.slug)
        session.add(shop)
    for key, value in row.values.items():
        setattr(shop, key, value)
    if row.networks is not None:
        shop.networks = [_network(session, name, networks) for name in row.networks]
    session.flush()
    return created


def import_shops(session: Session, path: Path) -> ShopImportReport:
    """Validate every line, then write the good ones, each in its own savepoint."""
    report = ShopImportReport()

    def reject(line: int, field_name: str, value: str, reason: str, message: str) -> None:
        report.rejected.append(Rejection(line, field_name, value, reason, message))

    try:
        text, _encoding = read_text(path)
    except UnreadableText as exc:
        reject(0, "", "", "unreadable_encoding", f"encodage illisible : {exc}")
        return report
    if not text.strip():
        reject(0, "", "", "empty_file", "le fichier est vide")
        return report
    header, rows = read_rows(text)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        reject(1, ",".join(missing), "", "missing_columns",
               "colonnes obligatoires absentes : " + ", ".join(missing))
        return report

    seen_slugs: dict[str, int] = {}
    networks: dict[str, Network] = {}
    for line, raw in rows:
        try:
            row = validate_row(line, raw, has_networks="networks" in header)
        except LineRejected as exc:
            reject(line, *exc.rejection_args)
            continue
        if row.slug in seen_slugs:
            reject(line, "slug", row.slug, "duplicate_slug",
                   f"identifiant déjà utilisé ligne {seen_slugs[row.slug]}")
            continue
        seen_slugs[row.slug] = line
        try:
            with session.begin_nested():
                created = apply_row(session, row, networks)
        except IntegrityError as exc:
            networks.clear()
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
            reject(line, "", row.slug, "conflict", f"refusé par la base ({constraint})")
            continue
        (report.created if created else report.updated).append(row.slug)
    return report
