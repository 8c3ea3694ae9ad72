"""The nearest copies of a book: ordering, distances, holds, hidden codes, radius fallback."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pyproj import Geod
from sqlalchemy.orm import Session

from app.clock import database_now
from app.models import Shop
from app.services.availability import (
    MAX_LIMIT,
    WALK_FROM_HOLDERS,
    book_availability,
    nearest_holders,
)
from app.services.editions import EditionSummary
from tests.factories import make_edition, make_reservation, make_shop, make_stock_line

ISBN = "9782070368228"
PAU = (43.2951, -0.3708)
# Real town centres, from nearest to farthest from Pau.
TOWNS = {
    "oloron": (43.1942, -0.6067),
    "tarbes": (43.2328, 0.0781),
    "dax": (43.7102, -1.0536),
    "bayonne": (43.4929, -1.4748),
    "bordeaux": (44.8378, -0.5792),
}
GEOD = Geod(ellps="WGS84")


def geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return abs(GEOD.inv(a[1], a[0], b[1], b[0])[2])


@pytest.fixture()
def network(session: Session) -> dict[str, int]:
    shops = {}
    for slug, (lat, lon) in TOWNS.items():
        shop = make_shop(session, slug=slug, lat=lat, lon=lon)
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=2)
        shops[slug] = shop.id
    return shops


def test_nearest_first_with_geodesic_distances(session: Session, network: dict[str, int]) -> None:
    found = nearest_holders(session, isbn13=ISBN, origin=PAU, limit=10, radius_km=None)
    assert [h.slug for h in found.holders] == ["oloron", "tarbes", "dax", "bayonne", "bordeaux"]
    for holder in found.holders:
        assert holder.distance_m == pytest.approx(geodesic_m(PAU, TOWNS[holder.slug]), abs=1.0)


def test_limit_and_radius(session: Session, network: dict[str, int]) -> None:
    found = nearest_holders(session, isbn13=ISBN, origin=PAU, limit=2, radius_km=30)
    assert [h.slug for h in found.nearby] == ["oloron"]
    assert found.beyond == []


def test_nothing_within_radius_shows_the_nearest_beyond(session: Session,
                                                        network: dict[str, int]) -> None:
    far_away = (48.8566, 2.3522)  # Paris
    found = nearest_holders(session, isbn13=ISBN, origin=far_away, limit=3, radius_km=30)
    assert found.nearby == []
    assert [h.slug for h in found.beyond] == ["bordeaux", "dax", "tarbes"]
    assert found.holders == found.beyond


def test_active_holds_are_subtracted_and_expired_ones_are_not(
    session: Session, network: dict[str, int]
) -> None:
    now = database_now(session)
    shop_id = network["oloron"]
    shop = session.get(Shop, shop_id)
    make_reservation(session, shop=shop, isbn13=ISBN)
    make_reservation(session, shop=shop, isbn13=ISBN, state="confirmed", confirmed_at=now)
    make_reservation(session, shop=shop, isbn13=ISBN, created_at=now - timedelta(hours=3),
                     expires_at=now - timedelta(seconds=1))  # expired, still "held"
    found = nearest_holders(session, isbn13=ISBN, origin=PAU, radius_km=None)
    assert "oloron" not in [h.slug for h in found.holders]  # 2 on the shelf, 2 held
    tarbes = session.get(Shop, network["tarbes"])
    make_reservation(session, shop=tarbes, isbn13=ISBN)
    holder = next(h for h in nearest_holders(session, isbn13=ISBN, origin=PAU,
                                             radius_km=None).holders if h.slug == "tarbes")
    assert (holder.on_hand, holder.available) == (2, 1)


def test_a_collection_counts_until_a_later_file_is_imported(
    session: Session, network: dict[str, int]
) -> None:
    now = database_now(session)
    shop = session.get(Shop, network["dax"])
    shop.stock_exported_at = now - timedelta(hours=10)
    make_reservation(session, shop=shop, isbn13=ISBN, state="collected",
                     created_at=now - timedelta(hours=1), collected_at=now - timedelta(minutes=5))
    session.flush()
    dax = lambda: next(h for h in nearest_holders(  # noqa: E731
        session, isbn13=ISBN, origin=PAU, radius_km=None).holders if h.slug == "dax")
    assert dax().available == 1
    shop.stock_exported_at = now  # tonight's file, exported after the collection
    session.flush()
    assert dax().available == 2


def test_internal_and_non_book_codes_never_appear(session: Session) -> None:
    shop = make_shop(session)
    make_stock_line(session, shop=shop, isbn13="2000000012346", code_kind="internal", on_hand=9)
    make_stock_line(session, shop=shop, isbn13="3760099990008", code_kind="gtin", on_hand=9)
    for code in ("2000000012346", "3760099990008"):
        assert nearest_holders(session, isbn13=code, origin=PAU).holders == []


def test_no_origin_lists_every_holder_and_inactive_shops_are_hidden(
    session: Session, network: dict[str, int]
) -> None:
    session.get(Shop, network["bayonne"]).active = False
    session.flush()
    found = nearest_holders(session, isbn13=ISBN, origin=None)
    assert {h.slug for h in found.holders} == {"oloron", "tarbes", "dax", "bordeaux"}
    assert all(h.distance_m is None for h in found.holders)


def test_out_of_print_book_on_a_shelf_is_found(session: Session) -> None:
    shop = make_shop(session, slug="bouquiniste")
    make_stock_line(session, shop=shop, isbn13="9780201633610", on_hand=1)  # no edition row
    assert [h.slug for h in nearest_holders(session, isbn13="9780201633610",
                                            origin=PAU).holders] == ["bouquiniste"]


def test_a_book_in_many_shops_is_found_by_walking_the_nearest_shops(session: Session) -> None:
    """From WALK_FROM_HOLDERS holders on, the query walks shops nearest-first instead of sorting
    the holders: same answer, holds still subtracted, inactive shops still hidden."""
    spots = [(43.0 + (n % 13) * 0.07, -1.2 + (n // 13) * 0.09)
             for n in range(WALK_FROM_HOLDERS + 5)]
    shops = [make_shop(session, slug=f"walk-{n}", lat=lat, lon=lon)
             for n, (lat, lon) in enumerate(spots)]
    for shop in shops:
        make_stock_line(session, shop=shop, isbn13=ISBN, on_hand=1)
    by_distance = sorted(range(len(spots)), key=lambda n: geodesic_m(PAU, spots[n]))
    held, closed = shops[by_distance[0]], shops[by_distance[2]]
    make_reservation(session, shop=held, isbn13=ISBN)
    closed.active = False
    session.flush()
    found = nearest_holders(session, isbn13=ISBN, origin=PAU, limit=12, radius_km=None)
    expected = [shops[n].slug for n in by_distance if shops[n] not in (held, closed)][:12]
    assert [h.slug for h in found.holders] == expected
    assert [h.distance_m for h in found.holders] == sorted(h.distance_m for h in found.holders)


def test_every_limit_has_its_statement(session: Session, network: dict[str, int]) -> None:
    for limit in (1, 3, MAX_LIMIT, MAX_LIMIT + 7):
        found = nearest_holders(session, isbn13=ISBN, origin=PAU, limit=limit, radius_km=None)
        assert len(found.holders) == min(limit, len(TOWNS))


@pytest.mark.parametrize("origin", [PAU, None])
def test_the_edition_comes_with_its_holders(session: Session, network: dict[str, int],
                                            origin: tuple[float, float] | None) -> None:
    """`book_availability` answers as `nearest_holders` does, with the edition in the same
    statement, or looked up alone when nobody holds the book; an unknown edition is None."""
    make_edition(session, isbn13=ISBN, title="L'Étranger", authors="Albert Camus",
                 publisher="Folio")
    edition, found = book_availability(session, isbn13=ISBN, origin=origin, limit=3)
    assert edition == EditionSummary(ISBN, "L'Étranger", "Albert Camus", "Folio")
    assert found == nearest_holders(session, isbn13=ISBN, origin=origin, limit=3)
    make_edition(session, isbn13="9780201633610", title="Design Patterns")
    edition, found = book_availability(session, isbn13="9780201633610", origin=origin)
    assert edition is not None and edition.title == "Design Patterns" and found.holders == []
    shop = make_shop(session, slug="bouquiniste")
    make_stock_line(session, shop=shop, isbn13="9782253004226", on_hand=1)  # no edition row
    edition, found = book_availability(session, isbn13="9782253004226", origin=origin)
    assert edition is None and [h.slug for h in found.holders] == ["bouquiniste"]
