"""Plain factories: `make_shop(session, **overrides)` with sensible defaults, flushed not committed.

Names are numbered from 1 in every test (`reset_names`, called before each test by conftest), so
a page's size or a sorted list never depends on how many tests ran before. Times that SQL will
compare with its own clock (a hold's deadline, a file's export time) come from the database.
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import timedelta
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import Edition, Network, Reservation, Shop, StaffUser, StockLine
from app.services.staff import hash_password

_counter = itertools.count(1)


def reset_names() -> None:
    """Number the next shop, network or staff member 1 again."""
    global _counter
    _counter = itertools.count(1)


def point(lat: float, lon: float) -> Any:
    return from_shape(Point(lon, lat), srid=4326)


def make_network(session: Session, **overrides: Any) -> Network:
    n = next(_counter)
    values: dict[str, Any] = {"slug": f"network-{n}", "name": f"Réseau {n}"}
    values.update(overrides)
    network = Network(**values)
    session.add(network)
    session.flush()
    return network


def make_shop(session: Session, *, lat: float = 44.8378, lon: float = -0.5792,
              **overrides: Any) -> Shop:
    n = next(_counter)
    values: dict[str, Any] = {
        "slug": f"shop-{n}", "name": f"Librairie {n}", "address": f"{n} rue Sainte-Catherine",
        "postcode": "33000", "city": "Bordeaux", "country": "FR", "location": point(lat, lon),
        "opening_hours": "Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00",
    }
    values.update(overrides)
    shop = Shop(**values)
    session.add(shop)
    session.flush()
    return shop


# Shops spread over metropolitan France in one statement: a national network in a test costs
# tens of milliseconds instead of seconds. Towns start with every letter (`Aville`, `Bville`, ...).
BULK_SHOPS = text("""
    INSERT INTO shop (slug, name, address, postcode, city, country, location, phone, email,
                      website, timezone, opening_hours)
    SELECT 'bulk-' || n, 'Librairie ' || n, n || ' rue du Commerce', '33000',
           chr(65 + n % 26) || 'ville ' || n % 100, 'FR',
           ST_SetSRID(ST_MakePoint(-4.5 + (n / 60) * 0.25, 42.5 + (n % 60) * 0.14),
                      4326)::geography,
           '05 56 00 00 00', '', 'https://librairie-' || n || '.example', 'Europe/Paris',
           'Tu-Sa 09:30-12:30,14:00-19:00; Mo 14:00-19:00'
    FROM generate_series(1, :count) AS n
""")


def make_shops_in_bulk(session: Session, count: int) -> None:
    """`count` active shops `bulk-1` ... with hours, a phone number and a website."""
    session.execute(BULK_SHOPS, {"count": count})


def make_edition(session: Session, **overrides: Any) -> Edition:
    values: dict[str, Any] = {"isbn13": "9782070368228", "title": "L'Étranger",
                              "authors": "Albert Camus", "publisher": "Gallimard"}
    values.update(overrides)
    edition = Edition(**values)
    session.add(edition)
    session.flush()
    return edition


def make_stock_line(session: Session, *, shop: Shop, **overrides: Any) -> StockLine:
    values: dict[str, Any] = {"shop_id": shop.id, "isbn13": "9782070368228", "code_kind": "isbn",
                              "on_hand": 2}
    if "exported_at" not in overrides:
        values["exported_at"] = database_now(session)
    values.update(overrides)
    line = StockLine(**values)
    session.add(line)
    session.flush()
    return line


def make_staff(session: Session, *, shops: list[Shop], **overrides: Any) -> StaffUser:
    n = next(_counter)
    values: dict[str, Any] = {"email": f"staff{n}@librairie.example",
                              "password_hash": hash_password("correct horse battery"),
                              "shops": shops}
    values.update(overrides)
    user = StaffUser(**values)
    session.add(user)
    session.flush()
    return user


def make_reservation(session: Session, *, shop: Shop, **overrides: Any) -> Reservation:
    now = database_now(session)
    values: dict[str, Any] = {
        "code_hash": hashlib.sha256(secrets.token_bytes(16)).digest(),
        "code_seed": secrets.token_bytes(20), "shop_id": shop.id,
        "isbn13": "9782070368228", "expires_at": now + timedelta(hours=2),
        "title_snapshot": "L'Étranger", "shop_name_snapshot": shop.name,
        "shop_address_snapshot": shop.address, "customer_name": "Lecteur",
        "customer_email": "lecteur@example.org",
    }
    values.update(overrides)
    reservation = Reservation(**values)
    session.add(reservation)
    session.flush()
    return reservation
