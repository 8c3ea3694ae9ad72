"""The stock commands (single file, nightly drop folders, tokens), the upload page and the push
API."""
from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from app.models import Shop
from app.services import shop_tokens
from importers.merge import SourceFile, open_run
from tests.factories import make_shop, make_staff
from tests.stock_api_server import serve
from tests.stock_helpers import STOCK_DATA, shelf

PASSWORD = "correct horse battery"


@pytest.fixture()
def shop(session: Session) -> Shop:
    return make_shop(session, slug="mots-passants", name="Les Mots Passants")


def test_stock_import_json_report(cli: FlaskCliRunner, shop: Shop) -> None:
    result = cli.invoke(args=["stock", "import", "--shop", shop.slug, "--json",
                              str(STOCK_DATA / "fr_pos_export_cp1252.csv")])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {k: body[k] for k in ("status", "format", "lines_read", "accepted", "rejected_lines",
                                 "added", "changed", "zeroed", "unchanged", "gate")} == {
        "status": "applied", "format": "delimited", "lines_read": 8, "accepted": 8,
        "rejected_lines": 0, "added": 7, "changed": 0, "zeroed": 0, "unchanged": 0, "gate": None}
    assert body["rejections"][0] == {
        "line": 9, "field": "quantity", "value": "-1", "reason": "negative_quantity",
        "message": body["rejections"][0]["message"]}


def test_stock_import_exit_codes(cli: FlaskCliRunner, shop: Shop, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    refused = cli.invoke(args=["stock", "import", "--shop", shop.slug, str(empty)])
    assert refused.exit_code == 1 and "refused (empty_file" in refused.output
    unknown = cli.invoke(args=["stock", "import", "--shop", "nowhere", str(empty)])
    assert unknown.exit_code == 1 and "unknown shop: nowhere" in unknown.output
    path = STOCK_DATA / "scanner_dump.txt"
    assert cli.invoke(args=["stock", "import", "--shop", shop.slug, str(path)]).exit_code == 0
    duplicate = cli.invoke(args=["stock", "import", "--shop", shop.slug, str(path)])
    assert duplicate.exit_code == 0 and duplicate.output.startswith("skipped_duplicate")


def test_nightly_over_good_broken_and_empty_drops(cli: FlaskCliRunner, session: Session,
                                                  tmp_path: Path) -> None:
    good, broken, empty = (make_shop(session, slug=s) for s in ("good", "broken", "empty"))
    for folder in ("good", "broken", "empty", "unknown-shop"):
        (tmp_path / folder).mkdir()
    old = tmp_path / "good" / "stock-old.csv"
    shutil.copy(STOCK_DATA / "two_cols_no_header.txt", old)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    shutil.copy(STOCK_DATA / "fr_pos_export_cp1252.csv", tmp_path / "good" / "stock-new.csv")
    (tmp_path / "broken" / "stock.csv").write_bytes(b"EAN;Titre;Stock\n9782070368228;Le Ph")
    (tmp_path / "empty" / "stock.csv").write_bytes(b"")
    shutil.copy(STOCK_DATA / "scanner_dump.txt", tmp_path / "unknown-shop" / "x.txt")

    refs = ["9782070368228", "9782890061231", "9791035200121"]
    with serve(refs=refs) as (url, afters):
        pulled = make_shop(session, slug="pulled",
                           feed_pull_url=url.replace("http://", "http://libraire:secret@"))
        # One worker: the test's sessions share one connection (see test_stock_concurrency.py
        # for the night on several threads).
        result = cli.invoke(args=["stock", "nightly", "--workers", "1", str(tmp_path)])
    assert result.exit_code == 3  # a folder naming no shop failed; refused files are the shops'
    assert shelf(session, pulled.id) == {ref: 1 for ref in refs}
    assert "pulled: applied" in result.output
    table = result.output
    assert "good" in table and "applied" in table and "rejected" in table
    assert shelf(session, good.id)["9782070368228"] == 4
    assert shelf(session, broken.id) == {} and shelf(session, empty.id) == {}
    assert sorted(p.name for p in (tmp_path / "good" / "done").iterdir()) == [
        "stock-new.csv", "stock-old.csv"]
    assert [p.name for p in (tmp_path / "broken" / "rejected").iterdir()] == ["stock.csv"]
    assert [p.name for p in (tmp_path / "empty" / "rejected").iterdir()] == ["stock.csv"]
    assert (tmp_path / "unknown-shop" / "x.txt").exists()  # left for a human


@pytest.mark.parametrize(("folders", "exit_code", "statuses"), [
    ({"good": "fr_pos_export_cp1252.csv", "broken": None}, 0, {"applied": 1, "rejected": 1}),
    ({"good": "fr_pos_export_cp1252.csv", "nobody": "scanner_dump.txt"}, 3,
     {"applied": 1, "failed": 1}),
    ({"nobody": "scanner_dump.txt"}, 1, {"failed": 1}),  # nothing could be imported
])
def test_the_night_as_json_and_its_exit_status(cli: FlaskCliRunner, session: Session,
                                               tmp_path: Path, folders: dict[str, str | None],
                                               exit_code: int, statuses: dict[str, int]) -> None:
    for slug, sample in folders.items():
        if slug != "nobody":
            make_shop(session, slug=slug)
        (tmp_path / slug).mkdir()
        target = tmp_path / slug / "stock.csv"
        if sample is None:
            target.write_bytes(b"EAN;Titre;Stock\n9782070368228;Le Ph")  # cut mid-line
        else:
            shutil.copy(STOCK_DATA / sample, target)
    result = cli.invoke(args=["stock", "nightly", "--workers", "1", "--json", str(tmp_path)])
    assert result.exit_code == exit_code
    night = json.loads(result.stdout)  # the JSON object and nothing else
    assert (night["exit_status"], night["statuses"]) == (exit_code, statuses)
    assert [line["slug"] for line in night["lines"]] == sorted(folders)
    assert {"status", "run_id", "lines", "added", "rejected", "seconds"} <= set(night["lines"][0])


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/staff/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_upload_page_report_history_and_csv(client: FlaskClient, session: Session, shop: Shop,
                                            app: Flask, tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path)
    staff = make_staff(session, shops=[shop])
    sign_in(client, staff.email)
    page = client.get(f"/staff/shops/{shop.slug}/stock").get_data(as_text=True)
    assert "Importer mon stock" in page and "Aucun import" in page
    data = {"stock_file": (io.BytesIO((STOCK_DATA / "excel_export.xlsx").read_bytes()),
                           "export.xlsx")}
    response = client.post(f"/staff/shops/{shop.slug}/stock", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Appliqué" in report and "export.xlsx" in report
    assert shelf(session, shop.id)["9780201633610"] == 1
    assert "9782070000000" in report  # the destroyed code, with its reason
    csv_url = response.headers["Location"] + "/rejections.csv"
    csv_body = client.get(csv_url).get_data(as_text=True)
    assert csv_body.startswith("\ufeffligne;champ;valeur;motif;message")
    assert "invalid_check_digit" in csv_body
    history = client.get(f"/staff/shops/{shop.slug}/stock").get_data(as_text=True)
    assert "export.xlsx" in history


def record_dead_run(session: Session, shop: Shop) -> int:
    """The trace an import leaves when its process is killed mid-work: its `running` run."""
    dead = open_run(session, shop_id=shop.id, file=SourceFile("night.csv", "0" * 64),
                    format="delimited", force=False)
    return dead.run_id


def test_a_dead_run_shows_as_interrupted_in_the_night_the_push_and_the_history(
    cli: FlaskCliRunner, client: FlaskClient, session: Session, shop: Shop, app: Flask,
    tmp_path: Path
) -> None:
    dead = record_dead_run(session, shop)
    (tmp_path / shop.slug).mkdir()
    shutil.copy(STOCK_DATA / "scanner_dump.txt", tmp_path / shop.slug / "stock.txt")
    night = cli.invoke(args=["stock", "nightly", "--workers", "1", str(tmp_path)])
    assert night.exit_code == 0, night.output
    note = f"found earlier run(s) {dead} interrupted (process stopped; previous stock kept)"
    progress, *_, last = night.output.splitlines()
    assert progress.startswith(f"{shop.slug}: applied (5 lines, ") and progress.endswith(note)
    assert last == f"{shop.slug}: {note}"  # under the table, for a terminal's progress bar
    # Once found, a dead run is told about once; the push API's report lists it too.
    app.config["UPLOAD_DIR"] = str(tmp_path)
    again = record_dead_run(session, shop)
    token = shop_tokens.issue_token(session, shop=shop)
    pushed = client.put(f"/api/v1/shops/{shop.slug}/stock?force=1",
                        data=(STOCK_DATA / "scanner_dump.txt").read_bytes(),
                        headers={"Authorization": f"Bearer {token}"})
    assert pushed.get_json()["interrupted_runs"] == [again]
    sign_in(client, make_staff(session, shops=[shop]).email)
    history = client.get(f"/staff/shops/{shop.slug}/stock").get_data(as_text=True)
    assert history.count("Interrompu : stock précédent conservé") == 2
    report = client.get(f"/staff/shops/{shop.slug}/imports/{dead}").get_data(as_text=True)
    assert "Interrompu : stock précédent conservé" in report
    assert "son processus a été interrompu" in report


def test_staff_never_see_another_shops_imports(client: FlaskClient, session: Session,
                                               shop: Shop, test_sessionmaker: object) -> None:
    other = make_shop(session, slug="autre")
    staff = make_staff(session, shops=[other])
    sign_in(client, staff.email)
    assert client.get(f"/staff/shops/{shop.slug}/stock").status_code == 404
    from importers.pipeline import import_file

    run = import_file(test_sessionmaker, shop=shop,  # type: ignore[arg-type]
                      path=STOCK_DATA / "scanner_dump.txt")
    for url in (f"/staff/shops/{shop.slug}/imports/{run.run_id}",
                f"/staff/shops/{shop.slug}/imports/{run.run_id}/rejections.csv",
                f"/staff/shops/{other.slug}/imports/{run.run_id}"):
        assert client.get(url).status_code == 404


def test_staff_pages_need_sign_in(client: FlaskClient, shop: Shop) -> None:
    response = client.get(f"/staff/shops/{shop.slug}/stock")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_upload_form_needs_csrf_token(app: Flask, client: FlaskClient, session: Session,
                                      shop: Shop) -> None:
    staff = make_staff(session, shops=[shop])
    sign_in(client, staff.email)
    app.config["WTF_CSRF_ENABLED"] = True
    data = {"stock_file": (io.BytesIO(b"9782070368228;1\n"), "s.csv")}
    response = client.post(f"/staff/shops/{shop.slug}/stock", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400


def test_push_api(client: FlaskClient, session: Session, shop: Shop, app: Flask,
                  tmp_path: Path) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path)
    token = shop_tokens.issue_token(session, shop=shop)
    other = make_shop(session)
    other_token = shop_tokens.issue_token(session, shop=other)
    body = (STOCK_DATA / "provider_api_stocks.json").read_bytes()
    url = f"/api/v1/shops/{shop.slug}/stock"

    def put(auth: str | None, data: bytes = body) -> object:
        headers = {"Authorization": auth} if auth else {}
        return client.put(url, data=data, headers=headers)

    for auth in (None, "Bearer wrong", f"Bearer {other_token}", token):
        denied = put(auth)
        assert denied.status_code == 401
        assert denied.mimetype == "application/problem+json"
    ok = put(f"Bearer {token}")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.get_json()["status"] == "applied" and ok.get_json()["format"] == "json"
    assert shelf(session, shop.id)["9782070368228"] == 4
    app.config["MAX_CONTENT_LENGTH"] = 100
    assert put(f"Bearer {token}").status_code == 413
    shop_tokens.revoke_token(session, shop=shop)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    assert put(f"Bearer {token}").status_code == 401


def test_token_command(cli: FlaskCliRunner, session: Session, shop: Shop) -> None:
    result = cli.invoke(args=["stock", "token", shop.slug])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert shop_tokens.shop_for_token(session, slug=shop.slug, token=token) is not None
    assert cli.invoke(args=["stock", "token", shop.slug, "--revoke"]).exit_code == 0
    session.expire_all()
    assert shop_tokens.shop_for_token(session, slug=shop.slug, token=token) is None


def test_the_rejections_csv_never_hands_a_spreadsheet_a_formula(
        session: Session, shop: Shop, test_sessionmaker: object, tmp_path: Path) -> None:
    from importers.pipeline import import_file
    from importers.report import rejections_csv

    stock = tmp_path / "stock.csv"
    stock.write_text("EAN;Qté\n9782070368228;2\n=HYPERLINK(\"http://x\");1\n+33 1 23;1\n"
                     "9782070360024;2\n", encoding="utf-8")
    run = import_file(test_sessionmaker, shop=shop, path=stock)  # type: ignore[arg-type]
    cells = [line.split(";")[2] for line in
             "".join(rejections_csv(session, run.run_id)).splitlines()[1:]]
    assert any(cell.startswith("'=HYPERLINK") or cell.startswith("\"'=HYPERLINK")
               for cell in cells), cells
    assert not any(cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells), cells
