"""The rules the schema itself enforces, each proven by a write the database refuses."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import app.models  # noqa: F401
from app.db import Base
from app.migrate import include_object
from app.models import Edition, ImportRun, StockLine
from tests.factories import (
    make_edition,
    make_network,
    make_reservation,
    make_shop,
    make_staff,
    make_stock_line,
)

NOW = datetime.now(UTC)


def refused(session: Session, write: Callable[[], object]) -> str:
    """Run a write in a savepoint and return the name of the constraint that refused it."""
    with pytest.raises(IntegrityError) as caught:
        with session.begin_nested():
            write()
            session.flush()
    return caught.value.orig.diag.constraint_name  # type: ignore[union-attr]


def test_models_and_migrations_agree(connection: Connection) -> None:
    context = MigrationContext.configure(
        connection, opts={"include_object": include_object, "compare_type": True}
    )
    assert compare_metadata(context, Base.metadata) == []


def test_extensions_and_trigram_index_exist(session: Session) -> None:
    extensions = set(session.scalars(text("SELECT extname FROM pg_extension")))
    assert {"postgis", "pg_trgm", "unaccent"} <= extensions
    indexdef = session.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_edition_title_authors_trgm'"))
    assert indexdef is not None and "gin_trgm_ops" in indexdef


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"slug": "Bad Slug"}, "ck_shop_slug_format"),
        ({"name": "   "}, "ck_shop_name_not_blank"),
        ({"country": "fr"}, "ck_shop_country_iso2"),
        ({"feed_price_unit": "francs"}, "ck_shop_feed_price_unit_known"),
        ({"feed_format": "pdf"}, "ck_shop_feed_format_known"),
    ],
)
def test_shop_rules(session: Session, overrides: dict[str, object], constraint: str) -> None:
    assert refused(session, lambda: make_shop(session, **overrides)) == constraint


def test_shop_slug_unique(session: Session) -> None:
    make_shop(session, slug="la-mouette")
    assert refused(session, lambda: make_shop(session, slug="la-mouette")) == "uq_shop_slug"


def test_shop_location_is_a_geography_with_gist_index(session: Session) -> None:
    shop = make_shop(session, lat=43.2951, lon=-0.3708)
    lat, lon = session.execute(
        select(func.ST_Y(func.ST_GeomFromWKB(func.ST_AsBinary(app.models.Shop.location))),
               func.ST_X(func.ST_GeomFromWKB(func.ST_AsBinary(app.models.Shop.location))))
        .where(app.models.Shop.id == shop.id)).one()
    assert (round(lat, 4), round(lon, 4)) == (43.2951, -0.3708)
    indexdef = session.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'shop' AND indexdef LIKE '%gist%'"))
    assert indexdef is not None and "location" in indexdef


def test_shop_belongs_to_several_networks(session: Session) -> None:
    city, region = make_network(session), make_network(session)
    shop = make_shop(session, networks=[city, region])
    session.expire_all()
    assert {n.id for n in session.get(app.models.Shop, shop.id).networks} == {city.id, region.id}


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"on_hand": -1}, "ck_stock_line_on_hand_not_negative"),
        ({"price_cents": -5}, "ck_stock_line_price_not_negative"),
        ({"isbn13": "97820703682"}, "ck_stock_line_code_13_digits"),
        ({"code_kind": "book"}, "ck_stock_line_code_kind_known"),
        ({"isbn13": "9782070368228", "code_kind": "internal"},
         "ck_stock_line_internal_codes_start_with_2"),
    ],
)
def test_stock_line_rules(session: Session, overrides: dict[str, object], constraint: str) -> None:
    shop = make_shop(session)
    assert refused(session, lambda: make_stock_line(session, shop=shop, **overrides)) == constraint


def test_stock_line_unique_per_shop_and_code(session: Session) -> None:
    shop, other = make_shop(session), make_shop(session)
    make_stock_line(session, shop=shop)
    make_stock_line(session, shop=other)  # the same code in another shop is fine
    session.expunge_all()
    assert refused(session, lambda: make_stock_line(session, shop=shop)) == "pk_stock_line"


def test_internal_codes_are_kept_for_their_shop(session: Session) -> None:
    shop = make_shop(session)
    make_stock_line(session, shop=shop, isbn13="2000000012346", code_kind="internal")
    assert session.get(StockLine, (shop.id, "2000000012346")).code_kind == "internal"


def test_edition_isbn_format(session: Session) -> None:
    assert refused(session, lambda: make_edition(session, isbn13="3760123456789")) == \
        "ck_edition_isbn13_format"


def test_edition_search_vector_ignores_accents(session: Session) -> None:
    make_edition(session, isbn13="9782330127367", title="L'Ordre du jour", authors="Éric Vuillard")
    query = func.plainto_tsquery("simple", func.rayons_unaccent("eric vuillard"))
    found = session.scalars(select(Edition.isbn13).where(Edition.search_vector.op("@@")(query)))
    assert list(found) == ["9782330127367"]


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"status": "done"}, "ck_import_run_status_known"),
        ({"status": "rejected", "gate": None}, "ck_import_run_rejected_has_gate"),
        ({"status": "applied", "finished_at": None}, "ck_import_run_finished_unless_running"),
        ({"sha256": "xyz"}, "ck_import_run_sha256_hex"),
        ({"added": -1}, "ck_import_run_added_not_negative"),
    ],
)
def test_import_run_rules(session: Session, overrides: dict[str, object], constraint: str) -> None:
    shop = make_shop(session)
    values: dict[str, object] = {"shop_id": shop.id, "source_name": "stock.csv",
                                 "sha256": "0" * 64, "status": "applied", "started_at": NOW,
                                 "finished_at": NOW}
    values.update(overrides)
    assert refused(session, lambda: session.add(ImportRun(**values))) == constraint


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"state": "lost"}, "ck_reservation_state_known"),
        ({"state": "confirmed"}, "ck_reservation_confirmed_has_confirmed_at"),
        ({"state": "collected"}, "ck_reservation_collected_has_collected_at"),
        ({"state": "cancelled"}, "ck_reservation_cancelled_has_cancelled_at"),
        ({"state": "expired"}, "ck_reservation_expired_has_expired_at"),
        ({"state": "declined"}, "ck_reservation_declined_has_declined_at"),
        ({"code_hash": b"short"}, "ck_reservation_code_hash_sha256"),
        ({"customer_email": None, "customer_phone": None}, "ck_reservation_customer_reachable"),
        ({"created_at": NOW, "expires_at": NOW - timedelta(hours=1)},
         "ck_reservation_expires_after_creation"),
        ({"isbn13": "3760123456789"}, "ck_reservation_isbn13_format"),
    ],
)
def test_reservation_rules(session: Session, overrides: dict[str, object], constraint: str) -> None:
    shop = make_shop(session)
    assert refused(session, lambda: make_reservation(session, shop=shop, **overrides)) == constraint


def test_reservation_redirect_must_name_another_shop(session: Session) -> None:
    shop = make_shop(session)
    assert refused(session, lambda: make_reservation(
        session, shop=shop, redirected_from_shop_id=shop.id)) == \
        "ck_reservation_redirect_to_another_shop"
    partner = make_shop(session)
    make_reservation(session, shop=shop, redirected_from_shop_id=partner.id)


def test_reservation_idempotency_key_unique_when_given(session: Session) -> None:
    shop = make_shop(session)
    make_reservation(session, shop=shop, idempotency_key=None)
    make_reservation(session, shop=shop, idempotency_key=None)
    make_reservation(session, shop=shop, idempotency_key="form-123")
    assert refused(session, lambda: make_reservation(
        session, shop=shop, idempotency_key="form-123")) == "uq_reservation_idempotency_key"


def test_reservation_erased_customer_data_is_allowed(session: Session) -> None:
    shop = make_shop(session)
    make_reservation(session, shop=shop, customer_email=None, customer_phone=None,
                     customer_name=None, personal_data_erased_at=NOW)


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"role": "owner"}, "ck_staff_user_role_known"),
        ({"password_hash": "plain-text"}, "ck_staff_user_password_argon2id"),
        ({"email": "nobody"}, "ck_staff_user_email_has_at"),
    ],
)
def test_staff_rules(session: Session, overrides: dict[str, object], constraint: str) -> None:
    shop = make_shop(session)
    assert refused(session, lambda: make_staff(session, shops=[shop], **overrides)) == constraint


def test_staff_email_unique_whatever_the_case(session: Session) -> None:
    shop = make_shop(session)
    make_staff(session, shops=[shop], email="Anne@Librairie.example")
    assert refused(session, lambda: make_staff(
        session, shops=[shop], email="anne@librairie.example")) == "uq_staff_user_email_lower"
