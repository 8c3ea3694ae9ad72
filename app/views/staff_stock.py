"""A shop's stock pages for its staff: upload a file, the import history, one run's report and
its rejected lines as CSV. Imports go through the pipeline's front door (`importers.pipeline`).
The coordinators of the shop's networks read the history and reports, without the upload form.

Everything the CLI can do to a file, the upload page can do too: choose the format, give the
ONIX stock location, map the columns (`ColumnMap`, optionally remembered as the shop's map), and
import a file the "shrunk" gate refused once the report has been read. Those second steps work on
the very file that was sent, kept a short while server-side (`importers.held`): a refused upload
is kept, and its report page offers what can be done about it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from app.errors import Conflict
from app.import_report_mail import report_mailer
from app.models import ImportRun, Shop, StaffUser
from app.models.import_run import STOCK_TAKEN
from app.session import db_session, import_limits, session_factory
from app.views.staff_auth import current_staff, followed_shop_or_404, shop_or_404, staff_required
from importers import pipeline, report
from importers.column_map import ColumnMap, ColumnMapError
from importers.held import HELD_FOR, HeldFile, HeldUploads
from importers.preview import MAPPABLE_FORMATS, preview

bp = Blueprint("staff_stock", __name__, url_prefix="/staff")
HISTORY_LENGTH = 30
HELD_MINUTES = int(HELD_FOR.total_seconds() // 60)
REPORT_REJECTIONS = 50
# What the bookseller reads for each format the upload form can force ("" is detection).
FORMAT_LABELS = {
    "": lazy_gettext("Recognise it from its content"),
    "delimited": lazy_gettext("CSV or text (columns separated by ; , or tabs)"),
    "scanner": lazy_gettext("Scanner dump (one code per line)"),
    "xlsx": lazy_gettext("Excel workbook (.xlsx)"),
    "onix": lazy_gettext("ONIX message (XML)"),
    "json": lazy_gettext("JSON stock file"),
}
# The fields a bookseller may place on the columns page, in the map's order, with their labels.
MAP_FIELDS = {
    "code": lazy_gettext("Code (EAN/ISBN)"),
    "quantity": lazy_gettext("Quantity in stock"),
    "price": lazy_gettext("Price of a copy"),
    "title": lazy_gettext("Title of the book"),
    "authors": lazy_gettext("Authors of the book"),
    "location": lazy_gettext("Stock location column"),
}


def _format_field() -> StringField:
    """A format the page offers ("" for detection): the select is drawn by the template."""
    return StringField(default="", validators=[AnyOf(list(FORMAT_LABELS))])


class UploadForm(FlaskForm):
    stock_file = FileField(validators=[FileRequired()])
    format = _format_field()
    location_code = StringField(validators=[Length(max=80)])
    remember_location = BooleanField()
    choose_columns = BooleanField()


class HeldForm(FlaskForm):
    """A second step on a kept file: the token says which one (checked against the shop and
    the person, never taken as a path)."""

    token = HiddenField(validators=[DataRequired()])


class ColumnsForm(HeldForm):
    code = StringField(validators=[Length(max=200)])
    quantity = StringField(validators=[Length(max=200)])
    price = StringField(validators=[Length(max=200)])
    title = StringField(validators=[Length(max=200)])
    authors = StringField(validators=[Length(max=200)])
    location = StringField(validators=[Length(max=200)])
    keep = StringField(validators=[Length(max=200)])
    remember = BooleanField()


class RetryForm(HeldForm):
    format = _format_field()
    location_code = StringField(validators=[Length(max=80)])
    remember_location = BooleanField()


class ClearMapForm(FlaskForm):
    """Only its CSRF token: forgetting the shop's map is a change of state."""


def held_uploads() -> HeldUploads:
    return HeldUploads(Path(current_app.config["UPLOAD_DIR"]) / ".held")


def _staff() -> StaffUser:
    user = current_staff()
    assert user is not None  # staff_required let the request in
    return user


@bp.route("/shops/<slug>/stock", methods=["GET", "POST"])
@staff_required
def stock(slug: str) -> ResponseReturnValue:
    user = _staff()
    shop = followed_shop_or_404(slug)
    works_here = shop in user.shops
    if request.method == "POST" and not works_here:
        abort(404)  # a coordinator reads a shop's imports; only its staff sends its stock
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.stock_file.data
        assert storage is not None  # FileRequired refused the form without a file
        options = {"format": form.format.data or None,
                   "location_code": (form.location_code.data or "").strip() or None,
                   "remember_location": form.remember_location.data}
        held = held_uploads().hold(storage.stream, shop_id=shop.id, user_id=user.id,
                                   source_name=storage.filename or "stock",
                                   max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
                                   options=options)
        if form.choose_columns.data:
            return redirect(url_for("staff_stock.columns", slug=shop.slug))
        return _import_held(shop, held, options)
    runs = report.recent_runs(db_session(), shop_id=shop.id, limit=HISTORY_LENGTH)
    return render_template("staff/stock.html", shop=shop, form=form if works_here else None,
                           runs=runs, saved_map=pipeline.saved_column_map(shop),
                           clear_form=ClearMapForm(), format_labels=FORMAT_LABELS,
                           map_fields=MAP_FIELDS)


def _import_held(shop: Shop, held: HeldFile, options: dict[str, Any], *,
                 force: bool = False) -> ResponseReturnValue:
    """Import a kept file with these settings, then show its report.

    A refused or failed file stays kept, with its run and settings, for the report page's next
    step; any other outcome releases it. "Remember" choices are saved only once the file was
    taken: a map that does not read the file must not replace the shop's good one."""
    columns = ColumnMap.from_json(options["columns"]) if options.get("columns") else None
    # The import runs in its own transaction; do not keep this one open while it works.
    db_session().commit()
    factory = session_factory()
    result = pipeline.import_file(
        factory, shop=shop, path=held.path, source_name=held.source_name,
        format=options.get("format"), force=force, columns=columns,
        location_code=options.get("location_code"), on_finished=report_mailer(factory),
        limits=import_limits())
    store = held_uploads()
    if result.status in ("rejected", "failed"):
        store.note(held, run_id=result.run_id, options=options)
    else:
        store.release(held)
    if result.status in STOCK_TAKEN:
        _remember(shop, options, columns)
    return redirect(url_for("staff_stock.import_run", slug=shop.slug, run_id=result.run_id))


def _remember(shop: Shop, options: dict[str, Any], columns: ColumnMap | None) -> None:
    session = db_session()
    if options.get("remember_columns") and columns is not None:
        pipeline.save_column_map(session, shop, columns)
        flash(gettext("Column map saved: your next files will be read with it."))
    if options.get("remember_location") and options.get("location_code"):
        try:
            pipeline.save_location_code(session, shop, options["location_code"])
        except Conflict:
            flash(gettext("The location code %(code)s belongs to another shop: it was not "
                          "saved.", code=options["location_code"]))
        else:
            flash(gettext("Location code saved: your next ONIX files will keep this "
                          "location's stock."))
    session.commit()


def _posted_held(shop: Shop, form: HeldForm) -> HeldFile | None:
    """The kept file a valid form names; None, with the reason shown on the upload page, for
    an expired form (CSRF) or a file no longer kept for this shop and this person."""
    if not form.validate_on_submit():
        flash(gettext("This form has expired: please try again."))
        return None
    held = held_uploads().find(form.token.data or "", shop_id=shop.id, user_id=_staff().id)
    if held is None:
        flash(gettext("That file is no longer kept here (files are kept %(minutes)d minutes): "
                      "please send it again.", minutes=HELD_MINUTES))
    return held


@bp.route("/shops/<slug>/stock/columns", methods=["GET", "POST"])
@staff_required
def columns(slug: str) -> ResponseReturnValue:
    """The kept file's first rows and the form that says which column holds what."""
    shop = shop_or_404(slug)
    form = ColumnsForm()
    if request.method == "POST":
        held = _posted_held(shop, form)
        if held is None:
            return redirect(url_for("staff_stock.stock", slug=shop.slug))
        try:
            column_map = _posted_map(form)
        except ColumnMapError as exc:
            return _columns_page(shop, held, form, error=str(exc)), 400
        options = {**held.options, "columns": column_map.as_json(),
                   "remember_columns": form.remember.data}
        return _import_held(shop, held, options)
    held = held_uploads().latest(shop_id=shop.id, user_id=_staff().id)
    if held is None:
        flash(gettext("No file is waiting for its columns: send it from this page first."))
        return redirect(url_for("staff_stock.stock", slug=shop.slug))
    return _columns_page(shop, held, form)


def _posted_map(form: ColumnsForm) -> ColumnMap:
    """The map the form describes; ColumnMapError, in the reader's language, when it is not one."""
    values = {name: (getattr(form, name).data or "").strip() for name in (*MAP_FIELDS, "keep")}
    if not values["code"]:
        raise ColumnMapError(gettext("Choose the column that holds the code (EAN or ISBN)."))
    if bool(values["location"]) != bool(values["keep"]):
        raise ColumnMapError(gettext("A stock location column needs the location to keep "
                                     "(as written in the file), and the other way round."))
    try:
        return ColumnMap.from_json({name: value for name, value in values.items() if value})
    except ColumnMapError as exc:
        raise ColumnMapError(gettext("These columns cannot be used together: %(why)s",
                                     why=str(exc))) from exc


def _columns_page(shop: Shop, held: HeldFile, form: ColumnsForm,
                  error: str | None = None) -> str:
    shown = preview(held.path, format=held.options.get("format") or shop.feed_format,
                    encoding=shop.feed_encoding)
    if request.method == "GET":
        current = held.options.get("columns") or shop.feed_columns or {}
        for name in (*MAP_FIELDS, "keep"):
            getattr(form, name).data = current.get(name, "")
        form.remember.data = bool(held.options.get("remember_columns"))
    form.token.data = held.token
    return render_template("staff/stock_columns.html", shop=shop, held=held, preview=shown,
                           form=form, error=error, map_fields=MAP_FIELDS,
                           retry_form=_retry_form(held), format_labels=FORMAT_LABELS)


def _retry_form(held: HeldFile | None) -> RetryForm:
    """The retry form filled with the kept file's last settings."""
    options = held.options if held is not None else {}
    return RetryForm(formdata=None, format=options.get("format") or "",
                     location_code=options.get("location_code") or "",
                     remember_location=bool(options.get("remember_location")))


@bp.post("/shops/<slug>/stock/force")
@staff_required
def force(slug: str) -> ResponseReturnValue:
    """Import anyway the kept file the "shrunk" gate refused, with the same settings."""
    shop = shop_or_404(slug)
    form = HeldForm()
    held = _posted_held(shop, form)
    if held is None:
        return redirect(url_for("staff_stock.stock", slug=shop.slug))
    return _import_held(shop, held, held.options, force=True)


@bp.post("/shops/<slug>/stock/retry")
@staff_required
def retry(slug: str) -> ResponseReturnValue:
    """Import the kept file again with another format or ONIX location code."""
    shop = shop_or_404(slug)
    form = RetryForm()
    held = _posted_held(shop, form)
    if held is None:
        return redirect(url_for("staff_stock.stock", slug=shop.slug))
    options = {**held.options, "format": form.format.data or None,
               "location_code": (form.location_code.data or "").strip() or None,
               "remember_location": form.remember_location.data}
    return _import_held(shop, held, options)


@bp.post("/shops/<slug>/stock/columns/clear")
@staff_required
def clear_columns(slug: str) -> ResponseReturnValue:
    """Forget the shop's column map: its files are read by their headers again."""
    shop = shop_or_404(slug)
    if ClearMapForm().validate_on_submit():
        pipeline.save_column_map(db_session(), shop, None)
        db_session().commit()
        flash(gettext("Column map forgotten: your files are read by their headers again."))
    return redirect(url_for("staff_stock.stock", slug=shop.slug))


def _run_or_404(shop_id: int, run_id: int) -> ImportRun:
    run = report.shop_run(db_session(), shop_id=shop_id, run_id=run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/shops/<slug>/imports/<int:run_id>")
@staff_required
def import_run(slug: str, run_id: int) -> ResponseReturnValue:
    user = _staff()
    shop = followed_shop_or_404(slug)
    run = _run_or_404(shop.id, run_id)
    rejections = report.rejections(db_session(), run.id, limit=REPORT_REJECTIONS)
    held = (held_uploads().latest(shop_id=shop.id, user_id=user.id)
            if shop in user.shops else None)
    if held is not None and held.run_id != run.id:
        held = None  # the kept file belongs to another report
    return render_template("staff/import_run.html", shop=shop, run=run, rejections=rejections,
                           shown=REPORT_REJECTIONS, held=held, retry_form=_retry_form(held),
                           held_minutes=HELD_MINUTES,
                           mappable=held is not None and run.format in (*MAPPABLE_FORMATS, None),
                           format_labels=FORMAT_LABELS)


@bp.get("/shops/<slug>/imports/<int:run_id>/rejections.csv")
@staff_required
def import_rejections_csv(slug: str, run_id: int) -> ResponseReturnValue:
    shop = followed_shop_or_404(slug)
    run = _run_or_404(shop.id, run_id)
    chunks = list(report.rejections_csv(db_session(), run.id))
    filename = f"rejets-{shop.slug}-{run.id}.csv"
    return Response(chunks, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
