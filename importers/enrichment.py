"""The enrichment job: titles for editions that no stock file nor catalogue named, asked of open
bibliographic services (importers/open_catalogues.py), off unless ENRICH_SOURCES names some.

It runs apart from the imports (`stock enrich`, after the night) and never holds them up: the
network is asked outside any transaction, and what was found is written in short transactions
that wait at most LOCK_WAIT for an edition row an import holds (the batch is then left for the
next run). Every look-up is recorded in `edition_lookup`, so a book the services do not know is
asked again only after `retry_days`, and one they failed to answer about, after a day. A service
that fails FAILURES_BEFORE_GIVING_UP times in a row is not asked again during the run.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from importers.catalogue import Description, apply_descriptions
from importers.open_catalogues import SOURCES, Found, Http, LookupFailed, Pace, Source

logger = logging.getLogger(__name__)

LOCK_WAIT = "2s"
FAILURES_BEFORE_GIVING_UP = 3
FAILED_RETRY = "1 day"

# Untitled editions not looked up lately: those on a shelf first, then those never asked.
CANDIDATES = text("""
    SELECT e.isbn13 FROM edition e
    LEFT JOIN edition_lookup l ON l.isbn13 = e.isbn13
    WHERE e.title = '' AND (l.isbn13 IS NULL OR l.retry_after <= now())
    ORDER BY EXISTS (SELECT 1 FROM stock_line s WHERE s.isbn13 = e.isbn13 AND s.on_hand > 0)
             DESC, l.looked_up_at NULLS FIRST, e.isbn13
    LIMIT :limit
""")
RECORD_LOOKUPS = text("""
    INSERT INTO edition_lookup AS l (isbn13, outcome, source, looked_up_at, retry_after)
    SELECT r.isbn13, r.outcome, r.source, now(),
           now() + CASE r.outcome WHEN 'failed' THEN CAST(:failed_retry AS interval)
                                  ELSE make_interval(days => :retry_days) END
    FROM unnest(CAST(:isbns AS text[]), CAST(:outcomes AS text[]), CAST(:sources AS text[]))
         AS r(isbn13, outcome, source)
    WHERE EXISTS (SELECT 1 FROM edition e WHERE e.isbn13 = r.isbn13)
    ON CONFLICT (isbn13) DO UPDATE SET
        outcome = excluded.outcome, source = excluded.source, attempts = l.attempts + 1,
        looked_up_at = excluded.looked_up_at, retry_after = excluded.retry_after
""")


@dataclass
class EnrichmentReport:
    asked: int = 0  # editions looked up
    found: int = 0  # ... that a service had a title for
    filled: int = 0  # ... whose edition this run filled
    not_found: int = 0
    failed: int = 0  # no answer (the service failed, or an import held the edition)
    by_source: Counter[str] = field(default_factory=Counter)
    given_up: list[str] = field(default_factory=list)  # services that kept failing

    def as_dict(self) -> dict[str, object]:
        return {"asked": self.asked, "found": self.found, "filled": self.filled,
                "not_found": self.not_found, "failed": self.failed,
                "by_source": dict(sorted(self.by_source.items())), "given_up": self.given_up}

    def summary_line(self) -> str:
        sources = ", ".join(f"{n} from {s}" for s, n in sorted(self.by_source.items()))
        line = (f"enrich: {self.asked} asked, {self.found} found"
                + (f" ({sources})" if sources else "")
                + f", {self.filled} filled, {self.not_found} not found, {self.failed} failed")
        if self.given_up:
            line += f"; stopped asking {', '.join(self.given_up)} after repeated failures"
        return line


def build_sources(names: Sequence[str], *, bnf_url: str, openlibrary_url: str,
                  timeout_s: float, min_interval_s: float, user_agent: str) -> list[Source]:
    """The configured services, in order, each with its own pace; ValueError for a name we do
    not know (a typo in ENRICH_SOURCES must not silently turn enrichment off)."""
    unknown = [name for name in names if name not in SOURCES]
    if unknown:
        raise ValueError(f"unknown enrichment source(s): {', '.join(unknown)}; "
                         f"known: {', '.join(SOURCES)}")
    urls = {"bnf": bnf_url, "openlibrary": openlibrary_url}
    return [SOURCES[name](urls[name], Http(user_agent=user_agent, timeout_s=timeout_s,
                                           pace=Pace(min_interval_s)))
            for name in names]


def enrich_editions(factory: sessionmaker[Session], *, sources: Sequence[Source],
                    limit: int = 500, retry_days: int = 30) -> EnrichmentReport:
    """Look up to `limit` untitled editions up in `sources`, in order, and fill what they find
    (blanks only: a title that came meanwhile from a file or catalogue stays). The sources are
    closed at the end."""
    report = EnrichmentReport()
    try:
        if not sources:
            return report
        with factory() as session:
            isbns = list(session.scalars(CANDIDATES, {"limit": limit}))
        batch_size = max(source.batch_size for source in sources)
        failures = Counter[str]()
        for start in range(0, len(isbns), batch_size):
            batch = isbns[start:start + batch_size]
            found, failed = _ask(sources, batch, failures, report)
            report.asked += len(batch)
            _record(factory, batch, found, failed, report, retry_days=retry_days)
        return report
    finally:
        for source in sources:
            source.close()


def _ask(sources: Sequence[Source], isbns: list[str], failures: Counter[str],
         report: EnrichmentReport) -> tuple[dict[str, tuple[str, Found]], set[str]]:
    """Each ISBN asked of each source in turn until one knows it; the ISBNs some source could
    not answer about (and none knew) come back as failed."""
    found: dict[str, tuple[str, Found]] = {}
    failed: set[str] = set()
    for source in sources:
        remaining = [isbn for isbn in isbns if isbn not in found]
        for start in range(0, len(remaining), source.batch_size):
            part = remaining[start:start + source.batch_size]
            if failures[source.name] >= FAILURES_BEFORE_GIVING_UP:
                failed.update(part)
                continue
            try:
                answers = source.look_up(part)
            except LookupFailed as exc:
                failures[source.name] += 1
                logger.warning("enrich: %s failed for %d ISBN(s): %s", source.name, len(part), exc)
                if failures[source.name] == FAILURES_BEFORE_GIVING_UP:
                    report.given_up.append(source.name)
                failed.update(part)
                continue
            failures[source.name] = 0
            found.update({isbn: (source.name, answer) for isbn, answer in answers.items()})
    return found, failed - set(found)


def _record(factory: sessionmaker[Session], isbns: list[str], found: dict[str, tuple[str, Found]],
            failed: set[str], report: EnrichmentReport, *, retry_days: int) -> None:
    """Fill the found editions and record every look-up, in one short transaction; an import
    holding one of the editions makes the batch wait for the next run instead."""
    outcomes = ["found" if isbn in found else "failed" if isbn in failed else "not_found"
                for isbn in isbns]
    try:
        with factory() as session:
            session.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                            {"wait": LOCK_WAIT})
            filled = apply_descriptions(session, _descriptions(found)).filled
            session.execute(RECORD_LOOKUPS, {
                "isbns": isbns, "outcomes": outcomes,
                "sources": [found[isbn][0] if isbn in found else None for isbn in isbns],
                "retry_days": retry_days, "failed_retry": FAILED_RETRY})
            session.commit()
    except OperationalError as exc:
        if not isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise
        logger.info("enrich: %d edition(s) held by an import, left for the next run", len(isbns))
        report.failed += len(isbns)
        return
    report.filled += filled
    report.found += len(found)
    report.by_source.update(source for source, _ in found.values())
    report.not_found += outcomes.count("not_found")
    report.failed += outcomes.count("failed")


def _descriptions(found: dict[str, tuple[str, Found]]) -> Iterable[Description]:
    return (Description(0, isbn, answer.title, answer.authors, answer.publisher)
            for isbn, (_, answer) in sorted(found.items()))
