"""The record of every stock import, kept so a shop can see what happened to its file."""
from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import CreatedAt, Timestamp, in_list

RUN_STATUSES = ("running", "applied", "rejected", "failed", "skipped_duplicate", "interrupted")
# The file's stock is (still) the shop's: applied now, or the same file as the last applied one.
STOCK_TAKEN = ("applied", "skipped_duplicate")
# The previous stock was kept: a gate refused the file, the run crashed, or its process died
# midway (`interrupted`: the shop's next import found it still `running`, and its transaction,
# with everything it had written, gone).
STOCK_KEPT = ("rejected", "failed", "interrupted")
COUNT_COLUMNS = (
    "lines_read", "accepted", "rejected_lines", "added", "changed", "zeroed", "unchanged"
)


class ImportRun(Base):
    __tablename__ = "import_run"
    __table_args__ = (
        CheckConstraint(in_list("status", RUN_STATUSES), name="status_known"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("status <> 'rejected' OR gate IS NOT NULL", name="rejected_has_gate"),
        CheckConstraint(
            "(status = 'running') = (finished_at IS NULL)", name="finished_unless_running"
        ),
        *(CheckConstraint(f"{c} >= 0", name=f"{c}_not_negative") for c in COUNT_COLUMNS),
        Index("ix_import_run_shop_started", "shop_id", text("started_at DESC")),
        # "Same file as the last applied run" is looked up by this.
        Index(
            "ix_import_run_applied_sha",
            "shop_id",
            "sha256",
            postgresql_where=text("status = 'applied'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    source_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(20))
    exported_at: Mapped[Timestamp | None]
    started_at: Mapped[CreatedAt]
    finished_at: Mapped[Timestamp | None]
    status: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    forced: Mapped[bool] = mapped_column(default=False, server_default="false")
    lines_read: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected_lines: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    zeroed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gate: Mapped[str | None] = mapped_column(String(40))
    gate_message: Mapped[str | None] = mapped_column(Text)
    # How a tabular file's header was read (importers.headers.HeaderGuess.as_json), for the
    # report: each field's column and the words that chose it. None for other files.
    column_guess: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    rejections: Mapped[list[ImportRejection]] = relationship(
        back_populates="run", order_by="ImportRejection.line", cascade="all, delete-orphan"
    )


class ImportRejection(Base):
    """One line of a stock file that was not applied, with where and why."""

    __tablename__ = "import_rejection"
    __table_args__ = (CheckConstraint("line >= 0", name="line_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("import_run.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(40), default="")
    raw_value: Mapped[str] = mapped_column(Text, default="")
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)

    run: Mapped[ImportRun] = relationship(back_populates="rejections")

