"""Apply one stock file to one shop: stage with COPY, check the gates, merge in set-based SQL.

The work happens in the caller's transaction, under a per-shop advisory lock, so two imports of
one shop never interleave and a crash (even a killed process) leaves either the previous stock or
the new one, never a mix. A refused file leaves every stock line as it was; its run and the reasons
are still recorded when the caller commits.

The run itself is recorded apart, by `open_run` in a transaction of its own committed before the
work starts, so a run whose process dies still shows in the shop's history, as `running` until
the shop's next import marks it `interrupted`. `bound_transaction` keeps a stuck or orphaned
import from holding the shop's lock for long (docs/operations.md).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from psycopg import errors as pg_errors
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import clock
from app.isbn import PUBLIC_CODE_KINDS
from app.models import ImportRun, Shop
from app.models.types import in_list
from importers import gates
from importers.records import FileRefused, LineIssue, ReadsHeader, StockRecord, StockSource

logger = logging.getLogger(__name__)

# First key of the two-key advisory lock: keeps our locks apart from any other user of them.
ADVISORY_NAMESPACE = 7261

# Records and issues share one staging table (issues have a reason_code; their `code` is the raw
# value), so a single COPY stream carries the whole file and nothing accumulates in memory.
STAGING_COLUMNS = ("line", "code", "kind", "quantity", "price_cents", "title", "authors",
                   "publisher", "field", "reason_code", "message", "rejected")

CREATE_STAGING = text("""
    CREATE TEMP TABLE stock_staging (
        line integer, code text, kind text, quantity integer, price_cents integer,
        title text, authors text, publisher text,
        field text, reason_code text, message text, rejected boolean
    ) ON COMMIT DROP
""")

KEEP_ISSUES = text("""
    INSERT INTO import_rejection (import_run_id, line, field, raw_value, reason_code, message)
    SELECT :run_id, line, field, left(code, 500), reason_code, message
    FROM stock_staging WHERE reason_code IS NOT NULL ORDER BY line
""")

# The file against the shop's current stock in one pass: duplicate lines of a code are summed (a
# price, when several lines give one, is the highest; the kind follows from the code), then a hash
# full join keeps only what moves: codes new to the shop, lines whose count, price or kind changed,
# and lines on the shelf that the file no longer lists (a full snapshot: they are now 0). Rows stay,
# with 0, so concurrent reservations never see a line vanish. Unchanged lines, 95 % of a night, are
# never touched: locking them would cost as much time and WAL as rewriting them. A hash join rather
# than one index probe per line also keeps a shop the statistics do not know yet from getting a
# nested-loop plan, quadratic in the file's length. Codes are grouped (and, for editions, sorted) in
# byte order: the cluster's linguistic collation sorts them several times slower.
CREATE_DIFF = text("""
    CREATE TEMP TABLE stock_diff (
        code text, kind text, quantity integer, price_cents integer, change text
    ) ON COMMIT DROP
""")
FILL_DIFF = text("""
    WITH incoming AS MATERIALIZED (
        SELECT code COLLATE "C" AS code, kind, sum(quantity)::integer AS quantity,
               max(price_cents) AS price_cents
        FROM stock_staging WHERE reason_code IS NULL GROUP BY 1, kind
    ),
    held AS (
        SELECT isbn13, code_kind, on_hand, price_cents FROM stock_line WHERE shop_id = :shop_id
    ),
    diff AS (
        INSERT INTO stock_diff (code, kind, quantity, price_cents, change)
        SELECT coalesce(i.code, h.isbn13), coalesce(i.kind, h.code_kind), coalesce(i.quantity, 0),
               CASE WHEN i.code IS NULL THEN h.price_cents ELSE i.price_cents END,
               CASE WHEN h.isbn13 IS NULL THEN 'added'
                    WHEN i.code IS NULL THEN 'zeroed' ELSE 'changed' END
        FROM incoming i FULL JOIN held h ON h.isbn13 COLLATE "C" = i.code
        WHERE h.isbn13 IS NULL
           OR (i.code IS NULL AND h.on_hand > 0)
           OR (i.code IS NOT NULL AND (h.on_hand, h.price_cents, h.code_kind)
                                      IS DISTINCT FROM (i.quantity, i.price_cents, i.kind))
        RETURNING change
    )
    SELECT (SELECT count(*) FROM incoming) AS incoming,
           count(*) FILTER (WHERE change = 'added') AS added,
           count(*) FILTER (WHERE change = 'changed') AS changed,
           count(*) FILTER (WHERE change = 'zeroed') AS zeroed
    FROM diff
""")
APPLY_DIFF = text("""
    INSERT INTO stock_line AS s
        (shop_id, isbn13, code_kind, on_hand, price_cents, exported_at, import_run_id)
    SELECT :shop_id, code, kind, quantity, price_cents, :exported_at, :run_id FROM stock_diff
    ON CONFLICT (shop_id, isbn13) DO UPDATE
        SET on_hand = excluded.on_hand, price_cents = excluded.price_cents,
            code_kind = excluded.code_kind, exported_at = excluded.exported_at,
            import_run_id = excluded.import_run_id, updated_at = now()
""")

# Editions from the files: per code the best-filled line of this file; it replaces a stored value
# only when it is better filled than the stored record, and a blank never erases anything.
_FILLED_NEW = ("((excluded.title <> '')::int + (excluded.authors <> '')::int"
               " + (excluded.publisher <> '')::int)")
_FILLED_OLD = "((e.title <> '')::int + (e.authors <> '')::int + (e.publisher <> '')::int)"


def _fill(column: str) -> str:
    return (f"{column} = CASE WHEN excluded.{column} = '' THEN e.{column} "
            f"WHEN e.{column} = '' OR {_FILLED_NEW} > {_FILLED_OLD} THEN excluded.{column} "
            f"ELSE e.{column} END")


FILL_EDITIONS = text(f"""
    -- Per code the best-described line of the file; a code new to this shop with no description
    -- comes as a blank line, which only ever creates an edition: the shop's other codes got
    -- theirs when they first came in, so `EAN;qty` files cost no edition lookups beyond the
    -- night's new codes. One sort picks the winner per code, whatever the planner guesses of the
    -- sizes: an anti join of the new codes against the described ones was planned as a nested
    -- loop over a 4-row estimate and took 20 minutes for a new shop's 250,000 titled lines.
    WITH best AS (
        SELECT DISTINCT ON (code COLLATE "C") code, title, authors, publisher
        FROM (
            SELECT code, title, authors, publisher,
                   (title <> '')::int + (authors <> '')::int + (publisher <> '')::int AS filled,
                   length(title) + length(authors) + length(publisher) AS length
            FROM stock_staging
            WHERE reason_code IS NULL AND {in_list('kind', PUBLIC_CODE_KINDS)}
              AND (title <> '' OR authors <> '' OR publisher <> '')
            UNION ALL
            SELECT d.code, '', '', '', 0, 0 FROM stock_diff d
            WHERE d.change = 'added' AND {in_list('d.kind', PUBLIC_CODE_KINDS)}
        ) AS candidate
        ORDER BY code COLLATE "C", filled DESC, length DESC
    ),
    -- Lines that would change nothing stay out of the upsert: ON CONFLICT locks (and logs)
    -- every row it meets, even when its WHERE then leaves the row alone.
    news AS (
        SELECT b.* FROM best b
        WHERE NOT EXISTS (
            SELECT 1 FROM edition e
            WHERE e.isbn13 = b.code
              AND (b.title = '' OR b.title = e.title)
              AND (b.authors = '' OR b.authors = e.authors)
              AND (b.publisher = '' OR b.publisher = e.publisher))
    )
    , filled AS (
        INSERT INTO edition AS e (isbn13, title, authors, publisher)
        SELECT code, title, authors, publisher FROM news
        ON CONFLICT (isbn13) DO UPDATE SET
            {_fill("title")}, {_fill("authors")}, {_fill("publisher")}, updated_at = now()
        WHERE (excluded.title <> '' AND excluded.title IS DISTINCT FROM e.title)
           OR (excluded.authors <> '' AND excluded.authors IS DISTINCT FROM e.authors)
           OR (excluded.publisher <> '' AND excluded.publisher IS DISTINCT FROM e.publisher)
        RETURNING title, authors
    )
    -- New words feed the typo-correction vocabulary (app/services/search.py).
    INSERT INTO search_word (word)
    SELECT DISTINCT rayons_words(title || ' ' || authors) FROM filled
    ON CONFLICT DO NOTHING
""")


@dataclass(frozen=True)
class SourceFile:
    """Where the records came from: shown in the report, hashed for the duplicate gate."""

    name: str
    sha256: str
    mtime: datetime | None = None


def describe_file(path: Path, *, name: str | None = None) -> SourceFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return SourceFile(name=name or path.name, sha256=digest.hexdigest(), mtime=mtime)


@dataclass(frozen=True)
class ImportLimits:
    """How long one import may take a step, wait for its shop, or sit idle (in seconds).

    Without them an import whose process died in the middle of a long statement kept its
    backend, and with it the shop's lock, until the statement ended, and the next import of the
    shop waited behind it for as long.
    """

    statement_timeout_s: int = 600  # per statement: the longest, for 250,000 lines, takes ~20 s
    lock_wait_s: int = 10  # then "une autre importation de cette librairie est en cours"
    idle_timeout_s: int = 60  # between two statements the import's work is a few ms


# How often a running statement checks that its client is still there, and stops if not: a killed
# import's statement then ends within this rather than running on to its end, holding the lock.
CLIENT_CHECK_INTERVAL = "2s"


class ShopBusy(Exception):
    """Another import of the shop held its lock for longer than the import's wait."""

    gate = "import_in_progress"
    message = "une autre importation de cette librairie est en cours ; réessayez plus tard"


def bound_transaction(session: Session, limits: ImportLimits) -> None:
    """Bound the statements of the session's transaction (SET LOCAL: gone at its end)."""
    session.execute(text(
        "SELECT set_config('statement_timeout', :statement, true),"
        " set_config('idle_in_transaction_session_timeout', :idle, true),"
        " set_config('client_connection_check_interval', :check, true)"
    ), {"statement": f"{limits.statement_timeout_s}s", "idle": f"{limits.idle_timeout_s}s",
        "check": CLIENT_CHECK_INTERVAL})


def lock_shop(session: Session, shop_id: int, *, wait_s: int | None = None) -> None:
    """Wait for any other import of this shop to finish; released at commit or rollback.

    With `wait_s`, ShopBusy once that has passed (the transaction is then aborted). Only this
    wait is bounded so: the merge's own row locks wait as long as its statement timeout allows.
    """
    lock = text("SELECT pg_advisory_xact_lock(:ns, :shop)")
    params = {"ns": ADVISORY_NAMESPACE, "shop": shop_id}
    if wait_s is None:
        session.execute(lock, params)
        return
    session.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                    {"wait": f"{wait_s}s"})
    try:
        session.execute(lock, params)
    except OperationalError as exc:
        if isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise ShopBusy(f"shop {shop_id} is being imported") from exc
        raise
    session.execute(text("SELECT set_config('lock_timeout', '0', true)"))


INTERRUPTED_MESSAGE = ("l'importation s'est arrêtée avant la fin (son processus a été interrompu) ;"
                       " constaté par l'importation n° {run_id}")


@dataclass(frozen=True)
class OpenedRun:
    run_id: int
    interrupted: tuple[int, ...]  # the shop's dead runs this one found, now `interrupted`


def open_run(session: Session, *, shop_id: int, file: SourceFile, format: str | None,
             force: bool) -> OpenedRun:
    """Record a run as `running`, for the caller to commit before the work starts.

    The caller holds the shop's lock (on another connection: the work's), which every live
    import of the shop takes before its run is recorded and keeps to its end. A `running` run of
    the shop is therefore a dead one: its process was killed or its connection cut, and its
    transaction rolled back. It is marked `interrupted`, with this run's number.
    """
    run = _new_run(session, shop_id=shop_id, file=file, format=format, force=force)
    interrupted = session.scalars(
        update(ImportRun).where(ImportRun.shop_id == shop_id, ImportRun.status == "running",
                                ImportRun.id != run.id)
        .values(status="interrupted", finished_at=func.clock_timestamp(),
                gate_message=INTERRUPTED_MESSAGE.format(run_id=run.id))
        .returning(ImportRun.id)
        .execution_options(synchronize_session=False)).all()
    if interrupted:
        logger.warning("shop %s: run %s found runs %s interrupted", shop_id, run.id,
                       sorted(interrupted))
    return OpenedRun(run.id, tuple(sorted(interrupted)))


def last_applied_run(session: Session, shop_id: int) -> ImportRun | None:
    return session.scalars(
        select(ImportRun).where(ImportRun.shop_id == shop_id, ImportRun.status == "applied")
        .order_by(ImportRun.started_at.desc(), ImportRun.id.desc()).limit(1)
    ).first()


# ON COMMIT DROP cleans up after each run; this covers two runs inside one transaction.
DROP_TEMP_TABLES = text("DROP TABLE IF EXISTS pg_temp.stock_staging, pg_temp.stock_diff")


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL: a binary file read as text must still be reported."""
    return value.replace("\x00", "\ufffd")


def _stage(session: Session, run: ImportRun, records: Iterable[StockRecord | LineIssue]) -> None:
    """COPY the parsed lines into staging, counting as they pass; keep the issues for the report.

    A FileRefused raised by the parser is re-raised once the issues seen so far are kept.
    """
    session.execute(DROP_TEMP_TABLES)
    session.execute(CREATE_STAGING)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    accepted = rejected = 0
    refused: FileRefused | None = None
    with raw.cursor() as cursor, cursor.copy(
        f"COPY stock_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"
    ) as copy:
        # A refusal must end the COPY cleanly: an exception inside the block would abort it and,
        # with it, the transaction that is to record the refusal.
        try:
            for item in records:
                if type(item) is StockRecord:
                    accepted += 1
                    texts: tuple[str, ...] = item.title, item.authors, item.publisher
                    if "\x00" in texts[0] or "\x00" in texts[1] or "\x00" in texts[2]:
                        texts = tuple(map(_text, texts))
                    copy.write_row((item.line, item.code, item.kind, item.quantity,
                                    item.price_cents, *texts, None, None, None, None))
                else:
                    rejected += item.rejected
                    copy.write_row((item.line, _text(item.raw_value), None, None, None, None, None,
                                    None, _text(item.field), item.reason_code, _text(item.message),
                                    item.rejected))
        except FileRefused as exc:
            refused = exc
    run.accepted, run.rejected_lines = accepted, rejected
    run.lines_read = accepted + rejected
    session.execute(KEEP_ISSUES, {"run_id": run.id})
    if refused is not None:
        raise refused


def _merge(session: Session, shop_id: int, run: ImportRun, exported_at: datetime) -> None:
    session.execute(CREATE_DIFF)
    params = {"shop_id": shop_id, "run_id": run.id, "exported_at": exported_at}
    incoming, added, changed, zeroed = session.execute(FILL_DIFF, params).one()
    session.execute(APPLY_DIFF, params)
    session.execute(FILL_EDITIONS)
    run.added, run.changed, run.zeroed = added, changed, zeroed
    run.unchanged = incoming - added - changed
    session.execute(update(Shop).where(Shop.id == shop_id).values(stock_exported_at=exported_at))


def apply_snapshot(session: Session, *, run_id: int, source: StockSource, file: SourceFile,
                   force: bool = False, exported_at: datetime | None = None) -> ImportRun:
    """Stage, gate and merge one full snapshot of a shop's stock into its opened run (see
    `open_run`), under the shop's lock the caller holds. The caller commits.

    Never deletes a shop's stock when a gate fails: the previous snapshot stays visible. The shop
    is named by the run: its row is only written (its stock date), under the shop's lock.
    """
    run = session.get(ImportRun, run_id)
    assert run is not None and run.status == "running", f"run {run_id} is not open"
    shop_id = run.shop_id
    previous = last_applied_run(session, shop_id)
    if previous is not None and previous.sha256 == file.sha256 and not force:
        # The same content exported again: nothing to merge, but the stock is confirmed as of
        # this newer export.
        exported_at = _snapshot_time(exported_at, source, file)
        session.execute(update(Shop).where(
            Shop.id == shop_id,
            or_(Shop.stock_exported_at.is_(None), Shop.stock_exported_at < exported_at),
        ).values(stock_exported_at=exported_at))
        run.exported_at = exported_at
        return _finish(session, run, "skipped_duplicate")
    refused: FileRefused | None = None
    try:
        _stage(session, run, source)
    except FileRefused as exc:
        refused = exc
    # Refused or not, the report says how the header was read: a refusal's way out is often a
    # column map, and the bookseller needs to see what was guessed.
    run.column_guess = source.column_guess if isinstance(source, ReadsHeader) else None
    if refused is not None:
        return _finish(session, run, "rejected", gate=refused.reason_code,
                       message=refused.message)
    verdict = gates.check(run, previous, force=force)
    if verdict is not None:
        return _finish(session, run, "rejected", gate=verdict.gate, message=verdict.message)
    exported_at = _snapshot_time(exported_at, source, file)
    run.exported_at = exported_at
    _merge(session, shop_id, run, exported_at)
    logger.info("shop %s: run %s applied (+%s ~%s 0:%s)", shop_id, run.id, run.added,
                run.changed, run.zeroed)
    return _finish(session, run, "applied")


def _snapshot_time(given: datetime | None, source: StockSource, file: SourceFile) -> datetime:
    """The caller's date, else the file's own (asked once read: see StockSource), else its
    mtime, else now."""
    return given or source.exported_at or file.mtime or clock.now()


def _finish(session: Session, run: ImportRun, status: str, *, gate: str | None = None,
            message: str | None = None) -> ImportRun:
    finished_at = session.scalar(select(func.clock_timestamp()))
    run.status, run.gate = status, gate
    run.gate_message = _text(message) if message is not None else None
    run.finished_at = finished_at
    session.flush()
    return run


def record_failure(session: Session, *, shop_id: int, file: SourceFile, format: str | None,
                   error: BaseException, run_id: int | None = None) -> ImportRun:
    """After a rollback: keep a trace of a run that crashed, for the shop's history.

    `run_id` names the run `open_run` recorded, if the crash came after; it stays as it is if
    another import has meanwhile found it dead (`interrupted`).
    """
    run = session.get(ImportRun, run_id) if run_id is not None else None
    if run is None:
        run = _new_run(session, shop_id=shop_id, file=file, format=format)
    elif run.status != "running":
        return run
    if isinstance(error, OperationalError) and isinstance(error.orig, pg_errors.QueryCanceled):
        return _finish(session, run, "failed", gate="timeout",
                       message="l'importation a dépassé le temps permis pour une étape")
    return _finish(session, run, "failed", gate="internal_error",
                   message=f"erreur inattendue pendant l'import : {type(error).__name__}")


def record_busy(session: Session, *, shop_id: int, file: SourceFile,
                format: str | None) -> ImportRun:
    """A file refused because another import of the shop held its lock past the wait."""
    run = _new_run(session, shop_id=shop_id, file=file, format=format)
    return _finish(session, run, "rejected", gate=ShopBusy.gate, message=ShopBusy.message)


def _new_run(session: Session, *, shop_id: int, file: SourceFile, format: str | None,
             force: bool = False) -> ImportRun:
    run = ImportRun(shop_id=shop_id, source_name=_text(file.name), sha256=file.sha256,
                    format=format, forced=force, status="running")
    session.add(run)
    session.flush()
    return run
