"""A shop's stock pages for its staff: upload a file, the import history, one run's report and
its rejected lines as CSV. Imports go through the pipeline's front door (`importers.pipeline`).
The coordinators of the shop's networks read the history and reports, without the upload form."""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.import_report_mail import report_mailer
from app.models import ImportRun
from app.session import db_session, import_limits, session_factory
from app.views.staff_auth import current_staff, followed_shop_or_404, staff_required
from importers import pipeline, report

bp = Blueprint("staff_stock", __name__, url_prefix="/staff")
HISTORY_LENGTH = 30
REPORT_REJECTIONS = 50


class UploadForm(FlaskForm):
    stock_file = FileField(validators=[FileRequired()])


@bp.route("/shops/<slug>/stock", methods=["GET", "POST"])
@staff_required
def stock(slug: str) -> ResponseReturnValue:
    user = current_staff()
    shop = followed_shop_or_404(slug)
    works_here = shop in user.shops if user else False
    if request.method == "POST" and not works_here:
        abort(404)  # a coordinator reads a shop's imports; only its staff sends its stock
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.stock_file.data
        assert storage is not None  # FileRequired refused the form without a file
        # The import runs in its own transaction; do not keep this one open while it works.
        db_session().commit()
        factory = session_factory()
        result = pipeline.import_push(
            factory, shop=shop, body=storage.stream,
            spool_dir=Path(current_app.config["UPLOAD_DIR"]) / shop.slug,
            max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
            source_name=storage.filename or None,
            on_finished=report_mailer(factory), limits=import_limits())
        return redirect(url_for("staff_stock.import_run", slug=shop.slug, run_id=result.run_id))
    runs = report.recent_runs(db_session(), shop_id=shop.id, limit=HISTORY_LENGTH)
    return render_template("staff/stock.html", shop=shop, form=form if works_here else None,
                           runs=runs)


def _run_or_404(shop_id: int, run_id: int) -> ImportRun:
    run = report.shop_run(db_session(), shop_id=shop_id, run_id=run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/shops/<slug>/imports/<int:run_id>")
@staff_required
def import_run(slug: str, run_id: int) -> ResponseReturnValue:
    shop = followed_shop_or_404(slug)
    run = _run_or_404(shop.id, run_id)
    rejections = report.rejections(db_session(), run.id, limit=REPORT_REJECTIONS)
    return render_template("staff/import_run.html", shop=shop, run=run, rejections=rejections,
                           shown=REPORT_REJECTIONS)


@bp.get("/shops/<slug>/imports/<int:run_id>/rejections.csv")
@staff_required
def import_rejections_csv(slug: str, run_id: int) -> ResponseReturnValue:
    shop = followed_shop_or_404(slug)
    run = _run_or_404(shop.id, run_id)
    chunks = list(report.rejections_csv(db_session(), run.id))
    filename = f"rejets-{shop.slug}-{run.id}.csv"
    return Response(chunks, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
