"""What Prometheus scrapes from `/metrics`: request latency, reservation outcomes, and figures
read from the database at scrape time.

Counters and histograms live in each process. Under gunicorn every worker has its own, so
`gunicorn.conf.py` points `PROMETHEUS_MULTIPROC_DIR` at a folder where prometheus-client's
multiprocess mode adds them up (and drops a dead worker's live values). Import runs, queued mail
and the like are facts of the database, written by cron jobs as much as by the web: they are
counted with SQL when scraped, so every process reports the same truth.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import ImportRun
from app.models.import_run import RUN_STATUSES
from app.replica import REPLICA_STATES, ReplicaStatus
from app.services import mail_queue

REQUEST_SECONDS = Histogram(
    "rayons_http_request_duration_seconds", "Time to answer a request, by route.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RESERVATIONS = Counter(
    "rayons_reservation_requests_total", "Reservation requests (form and API) by outcome.",
    ["outcome"])
# Runs started within this window are counted by status: a night's imports and the day's pushes.
RECENT_IMPORTS = timedelta(hours=24)


class _Snapshot(Collector):
    """Families computed before the scrape is written (one session, closed by the caller)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


class _ThisProcess(Collector):
    """The default registry of a process that is not one of several gunicorn workers."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def database_figures(session: Session) -> list[Metric]:
    """Import runs of the last day by status, and the mail queue."""
    runs = GaugeMetricFamily("rayons_import_runs_recent",
                             "Import runs started in the last 24 hours, by status.",
                             labels=["status"])
    counted = {status: count for status, count in session.execute(
        select(ImportRun.status, func.count())
        .where(ImportRun.started_at > func.now() - RECENT_IMPORTS)
        .group_by(ImportRun.status))}
    for status in RUN_STATUSES:
        runs.add_metric([status], counted.get(status, 0))
    queue = mail_queue.queue_state(session)
    oldest = (clock.now() - queue.oldest_queued_at).total_seconds() if queue.oldest_queued_at \
        else 0.0
    return [
        runs,
        GaugeMetricFamily("rayons_outbox_unsent",
                          "Mails queued and not sent yet (due now, or waiting for a retry).",
                          value=queue.due + queue.waiting_retry),
        GaugeMetricFamily("rayons_outbox_abandoned",
                          "Mails given up on after 48 hours of failed tries.",
                          value=queue.abandoned),
        GaugeMetricFamily("rayons_outbox_oldest_unsent_seconds",
                          "Age of the oldest unsent mail (0 when none waits).",
                          value=max(oldest, 0.0)),
    ]


def replica_figures(status: ReplicaStatus) -> list[Metric]:
    """The read replica as this process routes reads now (app/replica.py)."""
    state = GaugeMetricFamily("rayons_replica_state",
                              "1 for the replica's current state (reads use it only when ok).",
                              labels=["state"])
    for name in REPLICA_STATES:
        state.add_metric([name], float(status.state == name))
    figures: list[Metric] = [state]
    if status.lag_s is not None:
        figures.append(GaugeMetricFamily("rayons_replica_lag_seconds",
                                         "How far the replica's replay is behind the primary.",
                                         value=status.lag_s))
    return figures


def exposition(session: Session, replica: ReplicaStatus) -> bytes:
    """The text Prometheus reads: this process's (or every worker's) metrics, the database's and
    the replica's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped __init__
    else:
        registry.register(_ThisProcess())
    registry.register(_Snapshot(database_figures(session) + replica_figures(replica)))
    return generate_latest(registry)
