"""Staff pages: sign in and out, the shop's stock imports (upload, report, history)."""
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
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app import clock
from app.limits import LOGIN_LIMIT, limiter
from app.models import ImportRun
from app.services import auth, demand, editions
from app.services.import_mail import import_and_report
from app.session import db_session, session_factory
from app.views.staff_auth import current_staff, shop_or_404, sign_in, staff_required
from importers import report

bp = Blueprint("staff", __name__, url_prefix="/staff")
HISTORY_LENGTH = 30
REPORT_REJECTIONS = 50


class LoginForm(FlaskForm):
    email = EmailField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


class UploadForm(FlaskForm):
    stock_file = FileField(validators=[FileRequired()])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        try:
            user = auth.authenticate(session, email=form.email.data or "",
                                     password=form.password.data or "",
                                     now=clock.now())
        except auth.LoginRefused:
            session.commit()  # keep the failed-attempt count
            error = gettext("Wrong email or password, or account temporarily locked.")
        else:
            session.commit()
            sign_in(user)
            target = request.args.get("next", "")
            # Only local paths: never bounce a fresh session to another site.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("staff.dashboard")
            return redirect(target)
    status = 401 if error else 200
    return render_template("staff/login.html", form=form, error=error), status


@bp.post("/logout")
@staff_required
def logout() -> ResponseReturnValue:
    user = current_staff()
    assert user is not None
    auth.end_sessions(db_session(), user_id=user.id)
    db_session().commit()
    cookie_session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required
def dashboard() -> ResponseReturnValue:
    return render_template("staff/dashboard.html", user=current_staff())


@bp.get("/demand")
@staff_required
def unmet_demand() -> ResponseReturnValue:
    """Books readers looked for around the network and found nowhere nearby."""
    user = current_staff()
    assert user is not None
    session = db_session()
    today = clock.today()
    since = demand.default_window(today)
    areas = demand.network_areas(session, shop_ids=[s.id for s in user.shops])
    misses = demand.top_misses(session, since=since, areas=areas)
    titles = editions.edition_summaries(session, [m.term for m in misses if m.kind == "isbn"])
    return render_template("staff/demand.html", misses=misses, titles=titles, areas=areas,
                           since=since)


def _save_upload(slug: str, storage: FileStorage) -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / slug
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    name = secure_filename(getattr(storage, "filename", "") or "") or "stock"
    path = folder / f"{stamp}-{name}"
    storage.save(path)
    return path


@bp.route("/shops/<slug>/stock", methods=["GET", "POST"])
@staff_required
def stock(slug: str) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.stock_file.data
        assert storage is not None  # FileRequired refused the form without a file
        # The import runs in its own transaction; do not keep this one open while it works.
        db_session().commit()
        path = _save_upload(shop.slug, storage)
        result = import_and_report(session_factory(), shop_slug=shop.slug, path=path,
                             source_name=storage.filename or path.name)
        return redirect(url_for("staff.import_run", slug=shop.slug, run_id=result.run_id))
    runs = db_session().scalars(
        select(ImportRun).where(ImportRun.shop_id == shop.id)
        .order_by(ImportRun.started_at.desc(), ImportRun.id.desc()).limit(HISTORY_LENGTH))
    return render_template("staff/stock.html", shop=shop, form=form, runs=list(runs))


def _run_of(shop_id: int, run_id: int) -> ImportRun:
    run = db_session().get(ImportRun, run_id)
    if run is None or run.shop_id != shop_id:
        abort(404)
    return run


@bp.get("/shops/<slug>/imports/<int:run_id>")
@staff_required
def import_run(slug: str, run_id: int) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    run = _run_of(shop.id, run_id)
    rejections = report.rejections(db_session(), run.id, limit=REPORT_REJECTIONS)
    return render_template("staff/import_run.html", shop=shop, run=run, rejections=rejections,
                           shown=REPORT_REJECTIONS)


@bp.get("/shops/<slug>/imports/<int:run_id>/rejections.csv")
@staff_required
def import_rejections_csv(slug: str, run_id: int) -> ResponseReturnValue:
    shop = shop_or_404(slug)
    run = _run_of(shop.id, run_id)
    chunks = list(report.rejections_csv(db_session(), run.id))
    filename = f"rejets-{shop.slug}-{run.id}.csv"
    return Response(chunks, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
