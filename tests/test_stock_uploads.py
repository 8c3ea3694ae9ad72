"""Stock files received over HTTP (push API, upload page): spooled to disk, never left there.

Every way a body can fail is driven through werkzeug's real request stream: a chunked body past
MAX_CONTENT_LENGTH (werkzeug raises inside `read`), a client gone before its announced length,
our own limit, a failing read. None may leave a file in UPLOAD_DIR, and neither may a success.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from app.errors import PayloadTooLarge
from app.models import Shop
from app.services import shop_tokens
from importers.pipeline import import_file, import_push
from importers.report import run_by_id
from tests import hostile_files
from tests.factories import make_shop, make_staff
from tests.stock_helpers import STOCK_DATA, shelf

STOCK_LINE = b"9782070368228;1\n"


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="mots-passants")


@pytest.fixture()
def uploads(app: Flask, tmp_path: Path) -> Path:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture()
def token(session: Session, shop: Shop) -> str:
    return shop_tokens.issue_token(session, shop=shop)


def left_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_a_chunked_push_past_the_limit_is_413_and_leaves_no_file(
        app: Flask, client: FlaskClient, shop: Shop, token: str, uploads: Path) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    # No Content-Length: werkzeug counts as it reads and raises 413 from inside `read`, after
    # the first kilobyte was already written to the spool file.
    response = client.put(f"/api/v1/shops/{shop.slug}/stock",
                          input_stream=io.BytesIO(STOCK_LINE * 1000),
                          headers={"Authorization": f"Bearer {token}",
                                   "Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert uploads.is_dir() and left_in(uploads) == []


@pytest.mark.parametrize("terminated", [
    {},  # werkzeug limits the stream to Content-Length and raises when it ends short
    # gunicorn sets this: werkzeug then passes a short body through as if it were complete
    {"wsgi.input_terminated": True},
])
def test_a_client_gone_mid_body_leaves_no_file_and_no_run(
        client: FlaskClient, session: Session, shop: Shop, token: str, uploads: Path,
        terminated: dict[str, object]) -> None:
    body = STOCK_LINE * 10_000
    response = client.put(f"/api/v1/shops/{shop.slug}/stock",
                          input_stream=io.BytesIO(body[:100_000]),
                          headers={"Authorization": f"Bearer {token}"},
                          environ_overrides={"CONTENT_LENGTH": str(len(body)), **terminated})
    assert response.status_code == 400
    assert uploads.is_dir() and left_in(uploads) == []
    assert shelf(session, shop.id) == {}


def test_an_imported_push_leaves_no_file(client: FlaskClient, session: Session, shop: Shop,
                                         token: str, uploads: Path) -> None:
    response = client.put(f"/api/v1/shops/{shop.slug}/stock", data=STOCK_LINE * 3,
                          headers={"Authorization": f"Bearer {token}",
                                   "X-Filename": "stock.csv"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert run_by_id(session, response.get_json()["run_id"]).source_name == "stock.csv"
    assert shelf(session, shop.id) == {"9782070368228": 3}
    assert left_in(uploads) == []


def test_an_uploaded_file_is_imported_and_not_kept(client: FlaskClient, session: Session,
                                                   shop: Shop, uploads: Path) -> None:
    staff = make_staff(session, shops=[shop])
    client.post("/staff/login", data={"email": staff.email, "password": "correct horse battery"})
    data = {"stock_file": (io.BytesIO((STOCK_DATA / "scanner_dump.txt").read_bytes()),
                           "douchette.txt")}
    response = client.post(f"/staff/shops/{shop.slug}/stock", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "douchette.txt" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert shelf(session, shop.id)["9782070368228"] == 4
    assert left_in(uploads) == []


class BrokenBody(io.RawIOBase):
    """A body whose reads fail after a first chunk, as a dropped connection does in gunicorn."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.reads += 1
        if self.reads > 1:
            raise OSError("connection reset by peer")
        buffer[:len(STOCK_LINE)] = STOCK_LINE
        return len(STOCK_LINE)


def bodies() -> Iterator[tuple[object, type[BaseException]]]:
    yield io.BytesIO(STOCK_LINE * 100), PayloadTooLarge
    yield BrokenBody(), OSError


@pytest.mark.parametrize(("body", "error"), list(bodies()))
def test_our_limit_and_a_failing_read_leave_no_file(
        test_sessionmaker: sessionmaker[Session], shop: Shop, tmp_path: Path,
        body: io.RawIOBase, error: type[BaseException]) -> None:
    with pytest.raises(error):
        import_push(test_sessionmaker, shop=shop, body=body, spool_dir=tmp_path, max_bytes=1000)
    assert left_in(tmp_path) == []


# --- hostile files: each a refusal or a line problem, recorded as a run ------------------------

def hostile(tmp_path: Path, kind: str) -> Path:
    """Smaller cousins of the probe's files (bench/hostile_bench.py has the full sizes)."""
    match kind:
        case "long_line":
            return hostile_files.long_line_csv(tmp_path / "stock.csv", line_bytes=5 << 20)
        case "shared_strings":
            return hostile_files.xlsx_many_shared_strings(tmp_path / "stock.xlsx",
                                                          count=600_000, distinct=True)
        case "zip_bomb":
            return hostile_files.xlsx_many_shared_strings(tmp_path / "stock.xlsx",
                                                          count=200_000)
        case "empty_rows":
            return hostile_files.xlsx_empty_rows(tmp_path / "stock.xlsx", rows=400_000)
        case "deep_json":
            return hostile_files.deep_json(tmp_path / "stock.json", depth=100_000)
    raise AssertionError(kind)


@pytest.mark.parametrize(("kind", "gate", "says"), [
    ("long_line", "line_too_long", "ligne 3 trop longue (plus de 65\u202f536 caractères)"),
    ("shared_strings", "workbook_too_large", "plus de 500\u202f000 textes différents"),
    ("zip_bomb", "workbook_too_large", "« xl/sharedStrings.xml » du classeur se décompresse"),
    ("empty_rows", "workbook_too_large", "une feuille compte plus de 400\u202f000 lignes"),
    ("deep_json", "too_deep", "imbriqué sur plus de 64 niveaux"),
])
def test_a_hostile_push_is_a_refused_run_with_its_reason(
        client: FlaskClient, session: Session, shop: Shop, token: str, uploads: Path,
        tmp_path: Path, kind: str, gate: str, says: str) -> None:
    path = hostile(tmp_path, kind)
    with path.open("rb") as body:
        response = client.put(f"/api/v1/shops/{shop.slug}/stock", input_stream=body,
                              headers={"Authorization": f"Bearer {token}"},
                              environ_overrides={"CONTENT_LENGTH": str(path.stat().st_size)})
    assert response.status_code == 422, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["status"], report["gate"]) == ("rejected", gate)
    assert says in report["gate_message"]
    assert left_in(uploads) == []


def test_a_sheet_ends_after_ten_thousand_empty_rows(
        test_sessionmaker: sessionmaker[Session], session: Session, shop: Shop,
        tmp_path: Path) -> None:
    """Formatting applied far down a sheet is not a million blank lines to read; the whole grid
    declared in a few kilobytes, with a cell in its last column, reads as its two real rows."""
    for path in (hostile_files.xlsx_empty_rows(tmp_path / "formatted.xlsx", rows=300_000),
                 hostile_files.xlsx_huge_dimensions(tmp_path / "grid.xlsx")):
        result = import_file(test_sessionmaker, shop=shop, path=path, force=True)
        run = run_by_id(session, result.run_id)
        assert (run.status, run.lines_read, run.accepted) == ("applied", 1, 1)
    assert shelf(session, shop.id) == {"9782070368228": 1}
