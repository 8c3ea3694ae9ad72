"""The upload page does what the CLI does to a file: choose its columns (and remember them),
import it anyway past the shrink gate, force its format, give the ONIX stock location.

Each second step works on the file the bookseller sent, kept server-side under a random token
bound to the shop and the person (`importers.held`): these tests drive the real pages against
the real database and the real kept files, and check that nothing else can use that token.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from app import clock
from app.models import ImportRun, Shop, StaffUser
from app.services import shop_tokens
from importers.held import HeldUploads
from importers.pipeline import import_file
from tests.conftest import PINNED_AT
from tests.factories import make_network, make_shop, make_staff
from tests.stock_helpers import STOCK_DATA, shelf, write_csv

PASSWORD = "correct horse battery"
# A till's own labels, which no guess can read: the bookseller has to say which is which.
OPAQUE_HEADER = "Champ A;Champ B;Champ C"
LYON = "3012345000024"


def ean(n: int) -> str:
    """A valid EAN-13 of the 978 range, the n-th of a made-up publisher."""
    body = f"978207{n:06d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="la-colline", name="La Colline")


@pytest.fixture()
def uploads(app: Flask, tmp_path: Path) -> Path:
    """Kept files go to the test's own folder, where a test can list what is left."""
    folder = tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = str(folder)
    return folder


@pytest.fixture()
def staff(session: Session, shop: Shop) -> StaffUser:
    return make_staff(session, shops=[shop])


def sign_in(client: FlaskClient, user: StaffUser) -> None:
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def upload(client: FlaskClient, shop: Shop, body: bytes, name: str = "export.csv",
           **fields: str) -> TestResponse:
    return client.post(f"/staff/shops/{shop.slug}/stock",
                       data={"stock_file": (io.BytesIO(body), name), **fields},
                       content_type="multipart/form-data")


def kept(uploads: Path) -> list[Path]:
    return sorted(path for path in uploads.rglob("*.upload"))


def token_in(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, "no kept file offered on the page"
    return found.group(1)


def runs(session: Session, shop: Shop) -> int:
    return session.scalar(select(func.count()).where(ImportRun.shop_id == shop.id)) or 0


def latest_run(session: Session, shop: Shop) -> ImportRun:
    session.expire_all()
    run = session.scalars(select(ImportRun).where(ImportRun.shop_id == shop.id)
                          .order_by(ImportRun.id.desc())).first()
    assert run is not None
    return run


def opaque_file(*quantities: int) -> bytes:
    lines = [OPAQUE_HEADER] + [f"{ean(i)};{12 + i},50;{q}" for i, q in enumerate(quantities)]
    return ("\n".join(lines) + "\n").encode()


def test_an_unknown_layout_is_kept_previewed_mapped_and_remembered(
        client: FlaskClient, session: Session, test_sessionmaker: sessionmaker[Session],
        shop: Shop, staff: StaffUser, uploads: Path, tmp_path: Path) -> None:
    sign_in(client, staff)
    response = upload(client, shop, opaque_file(2, 3), name="caisse.csv")
    report_page = client.get(response.headers["Location"]).get_data(as_text=True)
    run = latest_run(session, shop)
    assert (run.status, run.gate) == ("rejected", "missing_columns")
    assert "Choisir les colonnes" in report_page and len(kept(uploads)) == 1

    page = client.get(f"/staff/shops/{shop.slug}/stock/columns").get_data(as_text=True)
    assert "Champ B" in page and ean(1) in page and "12,50" in page
    response = client.post(f"/staff/shops/{shop.slug}/stock/columns", data={
        "token": token_in(page), "code": "Champ A", "quantity": "Champ C", "price": "Champ B",
        "remember": "y"})
    assert response.status_code == 302
    run = latest_run(session, shop)
    assert (run.status, run.source_name) == ("applied", "caisse.csv")
    assert shelf(session, shop.id) == {ean(0): 2, ean(1): 3}
    session.refresh(shop)
    assert shop.feed_columns == {"code": "Champ A", "quantity": "Champ C", "price": "Champ B"}
    assert kept(uploads) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Correspondance des colonnes enregistrée" in page

    # The next file of that layout, through the path the night uses, needs no help.
    following = tmp_path / "nuit.csv"
    following.write_bytes(opaque_file(5, 0, 1))
    assert import_file(test_sessionmaker, shop=shop, path=following).status == "applied"
    assert shelf(session, shop.id) == {ean(0): 5, ean(1): 0, ean(2): 1}
    # And a file the till pushes.
    token = shop_tokens.issue_token(session, shop=shop)
    pushed = client.put(f"/api/v1/shops/{shop.slug}/stock", data=opaque_file(1, 1, 1),
                        headers={"Authorization": f"Bearer {token}"})
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    assert shelf(session, shop.id) == {ean(0): 1, ean(1): 1, ean(2): 1}
    stock_page = client.get(f"/staff/shops/{shop.slug}/stock").get_data(as_text=True)
    assert "« Champ C »" in stock_page and "Oublier cette correspondance" in stock_page


def test_asking_for_the_preview_imports_nothing_and_escapes_the_cells(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    body = (f"Réf <b>;Qté\n{ean(1)};<script>alert(1)</script>\n" + "x;" * 200 + "\n").encode()
    response = upload(client, shop, body, choose_columns="y")
    assert response.headers["Location"].endswith(f"/staff/shops/{shop.slug}/stock/columns")
    assert runs(session, shop) == 0 and len(kept(uploads)) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Réf &lt;b&gt;" in page
    english = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Which column holds what?" in english and "Column 40" in english
    assert "Colonne 40" in page and "Colonne 41" not in page  # bounded width


def test_without_remember_the_map_is_used_once(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    upload(client, shop, b"9782070368228;3\n", choose_columns="y")
    page = client.get(f"/staff/shops/{shop.slug}/stock/columns").get_data(as_text=True)
    assert 'value="#1"' in page  # no header: columns by position
    client.post(f"/staff/shops/{shop.slug}/stock/columns",
                data={"token": token_in(page), "code": "#1", "quantity": "#2"})
    assert latest_run(session, shop).status == "applied"
    session.refresh(shop)
    assert shop.feed_columns is None and kept(uploads) == []


@pytest.mark.parametrize(("fields", "says"), [
    ({"quantity": "Champ C"}, "Choisissez la colonne qui contient le code"),
    ({"code": "Champ A", "location": "Champ B"}, "demande le lieu à garder"),
    ({"code": "Champ A", "quantity": "#3"}, "ne vont pas ensemble"),
])
def test_a_map_that_is_not_one_is_said_and_nothing_is_imported(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser, uploads: Path,
        fields: dict[str, str], says: str) -> None:
    sign_in(client, staff)
    upload(client, shop, opaque_file(1), choose_columns="y")
    page = client.get(f"/staff/shops/{shop.slug}/stock/columns").get_data(as_text=True)
    response = client.post(f"/staff/shops/{shop.slug}/stock/columns",
                           data={"token": token_in(page), "remember": "y", **fields})
    assert response.status_code == 400 and says in response.get_data(as_text=True)
    assert runs(session, shop) == 0 and len(kept(uploads)) == 1
    session.refresh(shop)
    assert shop.feed_columns is None


def test_a_location_column_keeps_one_location_and_the_saved_map_can_be_cleared(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    body = f"Article;Lieu;Combien\n{ean(1)};Boutique;2\n{ean(1)};Entrepôt;40\n".encode()
    upload(client, shop, body, choose_columns="y")
    page = client.get(f"/staff/shops/{shop.slug}/stock/columns").get_data(as_text=True)
    client.post(f"/staff/shops/{shop.slug}/stock/columns", data={
        "token": token_in(page), "code": "Article", "quantity": "Combien", "location": "Lieu",
        "keep": "Boutique", "remember": "y"})
    assert shelf(session, shop.id) == {ean(1): 2}
    session.refresh(shop)
    assert shop.feed_columns == {"code": "Article", "quantity": "Combien", "location": "Lieu",
                                 "keep": "Boutique"}
    response = client.post(f"/staff/shops/{shop.slug}/stock/columns/clear")
    assert response.status_code == 302
    session.refresh(shop)
    assert shop.feed_columns is None


def shrink(session: Session, factory: sessionmaker[Session], shop: Shop, tmp_path: Path) -> None:
    """A first import of ten books, so that a file of two is refused as "shrunk"."""
    path = write_csv(tmp_path, "hier.csv", ["EAN;Stock", *(f"{ean(i)};1" for i in range(10))])
    assert import_file(factory, shop=shop, path=path).status == "applied"


def test_a_shrunk_file_is_imported_anyway_from_its_report(
        client: FlaskClient, session: Session, test_sessionmaker: sessionmaker[Session],
        shop: Shop, staff: StaffUser, uploads: Path, tmp_path: Path) -> None:
    shrink(session, test_sessionmaker, shop, tmp_path)
    sign_in(client, staff)
    response = upload(client, shop, f"EAN;Stock\n{ean(1)};4\n{ean(2)};1\n".encode())
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    run = latest_run(session, shop)
    assert (run.status, run.gate) == ("rejected", "shrunk")
    assert "2 lignes contre 10" in page and "--force" not in page
    assert "Importer quand même" in page and "Choisir les colonnes" in page
    client.post(f"/staff/shops/{shop.slug}/stock/force", data={"token": token_in(page)})
    run = latest_run(session, shop)
    assert (run.status, run.forced) == ("applied", True)
    assert shelf(session, shop.id) == {ean(i): (4 if i == 1 else 1 if i == 2 else 0)
                                       for i in range(10)}
    assert kept(uploads) == []


def test_a_shrunk_nightly_file_tells_the_web_and_the_cli_their_own_way(
        client: FlaskClient, cli: FlaskCliRunner, session: Session,
        test_sessionmaker: sessionmaker[Session], shop: Shop, staff: StaffUser,
        tmp_path: Path) -> None:
    shrink(session, test_sessionmaker, shop, tmp_path)
    small = write_csv(tmp_path, "petit.csv", ["EAN;Stock", f"{ean(1)};1"])
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, str(small)])
    assert result.exit_code == 1
    assert "si c'est voulu, relancez avec --force après vérification" in result.output
    sign_in(client, staff)
    page = client.get(f"/staff/shops/{shop.slug}/imports/{latest_run(session, shop).id}")
    text = page.get_data(as_text=True)
    assert "--force" not in text and 'id="import-anyway"' not in text  # no kept file
    assert "renvoyez le fichier depuis la page" in text


@pytest.mark.parametrize(("chosen", "status", "recorded"), [
    ("", "applied", "scanner"),  # recognised
    ("scanner", "applied", "scanner"),
    ("xlsx", "rejected", "xlsx"),  # text read as a workbook: refused, kept for another try
    ("delimited", "rejected", "delimited"),  # read as code;quantity lines: no valid line
])
def test_the_format_can_be_chosen(client: FlaskClient, session: Session, shop: Shop,
                                  staff: StaffUser, uploads: Path, chosen: str, status: str,
                                  recorded: str) -> None:
    sign_in(client, staff)
    upload(client, shop, f"{ean(1)}\n{ean(1)}\n{ean(2)}\n".encode(), name="stock.txt",
           format=chosen)
    run = latest_run(session, shop)
    assert (run.status, run.format) == (status, recorded)
    assert len(kept(uploads)) == (1 if status == "rejected" else 0)


def test_a_refused_format_is_retried_with_another(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    response = upload(client, shop, f"EAN;Stock\n{ean(1)};2\n".encode(), format="json")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert latest_run(session, shop).status in ("rejected", "failed")
    client.post(f"/staff/shops/{shop.slug}/stock/retry",
                data={"token": token_in(page), "format": "delimited"})
    run = latest_run(session, shop)
    assert (run.status, run.format) == ("applied", "delimited")
    assert shelf(session, shop.id) == {ean(1): 2} and kept(uploads) == []


def test_a_multi_location_onix_gets_its_location_from_the_page(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    onix = (STOCK_DATA / "onix30_stock_ref.xml").read_bytes()
    response = upload(client, shop, onix, name="onix.xml")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert latest_run(session, shop).gate == "several_locations"
    assert "Choisir les colonnes" not in page  # ONIX names its fields
    assert "Indiquez ci-dessous le code de lieu" in page and "configuration du flux" not in page
    client.post(f"/staff/shops/{shop.slug}/stock/retry", data={
        "token": token_in(page), "location_code": LYON, "remember_location": "y"})
    assert latest_run(session, shop).status == "applied"
    session.refresh(shop)
    assert shop.feed_location_code == LYON and kept(uploads) == []
    # Given on the upload form directly, the code is used for that file only.
    other = make_shop(session, slug="villeurbanne")
    make_staff(session, shops=[other], email="v@librairie.example")
    client.post("/staff/logout")
    sign_in(client, session.scalars(select(StaffUser)
                                    .where(StaffUser.email == "v@librairie.example")).one())
    upload(client, other, onix, name="onix.xml", location_code="3012345000031")
    assert latest_run(session, other).status == "applied"
    session.refresh(other)
    assert other.feed_location_code is None


def test_a_location_code_of_another_shop_is_not_saved(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    make_shop(session, slug="lyon", feed_location_code=LYON)
    sign_in(client, staff)
    onix = (STOCK_DATA / "onix30_stock_ref.xml").read_bytes()
    response = upload(client, shop, onix, name="onix.xml", location_code=LYON,
                      remember_location="y")
    assert latest_run(session, shop).status == "applied"
    assert "appartient à une autre librairie" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    session.refresh(shop)
    assert shop.feed_location_code is None


def test_a_token_works_only_for_its_shop_and_its_sender(
        client: FlaskClient, session: Session, test_sessionmaker: sessionmaker[Session],
        shop: Shop, uploads: Path, tmp_path: Path) -> None:
    other = make_shop(session, slug="autre")
    both = make_staff(session, shops=[shop, other])
    colleague = make_staff(session, shops=[shop])
    shrink(session, test_sessionmaker, shop, tmp_path)
    sign_in(client, both)
    response = upload(client, shop, f"EAN;Stock\n{ean(1)};4\n".encode())
    token = token_in(client.get(response.headers["Location"]).get_data(as_text=True))
    before = (runs(session, shop), runs(session, other))
    client.post(f"/staff/shops/{other.slug}/stock/force", data={"token": token})
    client.post(f"/staff/shops/{other.slug}/stock/columns", data={"token": token, "code": "EAN"})
    for forged in ("../../../etc/passwd", token[:-1] + "x"):
        client.post(f"/staff/shops/{shop.slug}/stock/force", data={"token": forged})
    response = client.post(f"/staff/shops/{shop.slug}/stock/force", data={})
    assert "Ce formulaire a expiré" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    client.post("/staff/logout")
    sign_in(client, colleague)
    response = client.post(f"/staff/shops/{shop.slug}/stock/force", data={"token": token})
    assert "plus conservé ici" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert (runs(session, shop), runs(session, other)) == before
    assert len(kept(uploads)) == 1  # still there for the one who sent it
    assert client.get(f"/staff/shops/{shop.slug}/stock/columns").status_code == 302


def test_the_second_steps_need_the_csrf_token(
        make_app: Callable[..., Flask], session: Session,
        test_sessionmaker: sessionmaker[Session], shop: Shop, staff: StaffUser,
        tmp_path: Path) -> None:
    app = make_app(WTF_CSRF_ENABLED=True, UPLOAD_DIR=str(tmp_path / "uploads"))
    client = app.test_client()
    shrink(session, test_sessionmaker, shop, tmp_path)
    login = client.get("/staff/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)
    assert csrf
    client.post("/staff/login", data={"email": staff.email, "password": PASSWORD,
                                      "csrf_token": csrf.group(1)})
    page = client.get(f"/staff/shops/{shop.slug}/stock").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert csrf
    response = upload(client, shop, f"EAN;Stock\n{ean(1)};4\n".encode(),
                      csrf_token=csrf.group(1))
    report_page = client.get(response.headers["Location"]).get_data(as_text=True)
    token = token_in(report_page)
    count = runs(session, shop)
    for path in ("force", "retry", "columns", "columns/clear"):
        response = client.post(f"/staff/shops/{shop.slug}/stock/{path}",
                               data={"token": token, "code": "EAN"})
        assert response.status_code == 400  # refused before the view (CSRFProtect)
    assert runs(session, shop) == count
    client.post(f"/staff/shops/{shop.slug}/stock/force",
                data={"token": token, "csrf_token": csrf.group(1)})
    assert (latest_run(session, shop).status, runs(session, shop)) == ("applied", count + 1)


def test_a_coordinator_reads_the_report_but_gets_no_second_step(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    upload(client, shop, opaque_file(1))
    run = latest_run(session, shop)
    token = held_token(uploads)
    client.post("/staff/logout")
    network = make_network(session)
    network.shops = [shop]
    coordinator = make_staff(session, shops=[], role="network_admin", networks=[network])
    sign_in(client, coordinator)
    page = client.get(f"/staff/shops/{shop.slug}/imports/{run.id}").get_data(as_text=True)
    assert "Choisir les colonnes" not in page and token not in page
    assert client.post(f"/staff/shops/{shop.slug}/stock/force",
                       data={"token": token}).status_code == 404


def held_token(uploads: Path) -> str:
    (path,) = kept(uploads)
    return path.stem


def test_a_kept_file_expires_and_a_bad_token_finds_nothing(
        pinned_clock: Callable[[datetime], None], tmp_path: Path) -> None:
    store = HeldUploads(tmp_path, held_for=timedelta(minutes=30))
    held = store.hold(io.BytesIO(b"9782070368228;1\n"), shop_id=7, user_id=3,
                      source_name="a.csv", max_bytes=1000)
    assert held.held_at == clock.now()
    assert store.find(held.token, shop_id=7, user_id=3) == held
    assert store.find(held.token, shop_id=8, user_id=3) is None
    assert store.find(held.token, shop_id=7, user_id=4) is None
    assert store.find("../7/" + held.token, shop_id=7, user_id=3) is None
    replaced = store.hold(io.BytesIO(b"x"), shop_id=7, user_id=3, source_name="b.csv",
                          max_bytes=1000)
    assert store.find(held.token, shop_id=7, user_id=3) is None and not held.path.exists()
    pinned_clock(PINNED_AT + timedelta(minutes=31))
    store.sweep()
    assert store.find(replaced.token, shop_id=7, user_id=3) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_cli_and_the_push_api_give_their_own_way_past_the_gate_and_a_location(
        client: FlaskClient, cli: FlaskCliRunner, session: Session,
        test_sessionmaker: sessionmaker[Session], shop: Shop, uploads: Path,
        tmp_path: Path) -> None:
    shrink(session, test_sessionmaker, shop, tmp_path)
    token = shop_tokens.issue_token(session, shop=shop)
    response = client.put(f"/api/v1/shops/{shop.slug}/stock", data=f"{ean(1)};1\n".encode(),
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.get_json()["gate_message"].endswith(
        "si c'est voulu, renvoyez-le avec ?force=1 après vérification")
    onix = str(STOCK_DATA / "onix30_stock_ref.xml")
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--force", onix])
    assert result.exit_code == 1 and "avec --location-code" in result.output
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--force", "--json",
                              "--location-code", LYON, onix])
    assert result.exit_code == 0, result.output
    assert latest_run(session, shop).status == "applied"


def test_a_file_without_columns_asked_for_its_columns_can_still_be_imported(
        client: FlaskClient, session: Session, shop: Shop, staff: StaffUser,
        uploads: Path) -> None:
    sign_in(client, staff)
    onix = (STOCK_DATA / "onix30_stock_ref.xml").read_bytes()
    response = upload(client, shop, onix, name="onix.xml", choose_columns="y")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "pas de colonnes à choisir" in page and 'id="retry"' in page
    client.post(f"/staff/shops/{shop.slug}/stock/retry",
                data={"token": token_in(page), "location_code": LYON})
    assert latest_run(session, shop).status == "applied" and kept(uploads) == []
