"""An uploaded stock file kept a short while, so the bookseller can act on its refusal.

A file the upload page refuses (columns not understood, far fewer lines than last time, several
stock locations) is fixed by a second step on the web: choose the columns, import anyway, give
the ONIX location. That step must import the very file the report was about, without asking
the bookseller to send it again and without trusting anything the browser says about it.

So the upload is kept under `root/<shop id>/` as `<token>.upload` beside `<token>.json` (who sent
it, when, for which run, with which settings). The token is random (32 bytes), checked against
a strict pattern before it touches a path, and a file is only found for the shop and the staff
member who sent it: another shop's page, or a colleague, cannot use it. One file is kept per
shop and person (a new upload replaces it); it is removed once imported, or after
`HELD_FOR` by the sweep every new upload runs.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from app import clock
from importers.pipeline import spool

logger = logging.getLogger(__name__)

HELD_FOR = timedelta(minutes=30)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_UPLOAD = ".upload"
_META = ".json"


@dataclass(frozen=True)
class HeldFile:
    """A kept upload and what the page needs to import it again."""

    token: str
    path: Path
    shop_id: int
    user_id: int
    source_name: str
    held_at: datetime
    run_id: int | None = None  # the refused run the file was last imported as
    # The import's settings (format, location code, column map, "remember" choices), so that
    # "import anyway" repeats the same import with only the gate lifted.
    options: dict[str, Any] = field(default_factory=dict)


class HeldUploads:
    """The kept uploads under one folder (the web passes `UPLOAD_DIR/.held`)."""

    def __init__(self, root: Path, *, held_for: timedelta = HELD_FOR) -> None:
        self.root = root
        self.held_for = held_for

    def hold(self, body: IO[bytes], *, shop_id: int, user_id: int, source_name: str,
             max_bytes: int, options: dict[str, Any] | None = None) -> HeldFile:
        """Spool the body (bounded by `max_bytes`: PayloadTooLarge past it) and keep it,
        replacing the file this person kept for this shop before."""
        self.sweep()
        for earlier in self._kept(shop_id):
            if earlier.user_id == user_id:
                self.release(earlier)
        folder = self.root / str(shop_id)
        spooled = spool(body, folder, max_bytes, prefix="held-")
        token = secrets.token_urlsafe(32)
        path = folder / f"{token}{_UPLOAD}"
        spooled.rename(path)
        held = HeldFile(token=token, path=path, shop_id=shop_id, user_id=user_id,
                        source_name=source_name, held_at=clock.now(), options=options or {})
        self._write(held)
        return held

    def find(self, token: str, *, shop_id: int, user_id: int) -> HeldFile | None:
        """The file behind a token posted by a page, if it is this shop's and this person's
        and still kept; None for anything else (a made-up, expired or foreign token)."""
        if not _TOKEN.fullmatch(token):
            return None
        held = self._read(self.root / str(shop_id) / f"{token}{_META}")
        if held is None or held.shop_id != shop_id or held.user_id != user_id:
            return None
        return held

    def latest(self, *, shop_id: int, user_id: int) -> HeldFile | None:
        """The file this person keeps for this shop (there is at most one)."""
        mine = [held for held in self._kept(shop_id) if held.user_id == user_id]
        return max(mine, key=lambda held: held.held_at) if mine else None

    def note(self, held: HeldFile, *, run_id: int | None,
             options: dict[str, Any]) -> HeldFile:
        """Record which run the file was last imported as, with which settings."""
        noted = HeldFile(held.token, held.path, held.shop_id, held.user_id, held.source_name,
                         held.held_at, run_id, options)
        self._write(noted)
        return noted

    def release(self, held: HeldFile) -> None:
        held.path.unlink(missing_ok=True)
        held.path.with_suffix(_META).unlink(missing_ok=True)

    def sweep(self) -> None:
        """Remove every kept file past its time, and leftovers of a crash mid-hold."""
        if not self.root.is_dir():
            return
        oldest_leftover = time.time() - self.held_for.total_seconds()
        for folder in self.root.iterdir():
            if not folder.is_dir() or not folder.name.isdigit():
                continue
            list(self._kept(int(folder.name)))  # reading expires the old ones
            for path in folder.iterdir():
                orphan = (path.suffix == _UPLOAD and not path.with_suffix(_META).exists()
                          or path.name.startswith("held-"))
                if orphan and path.stat().st_mtime < oldest_leftover:
                    path.unlink(missing_ok=True)

    def _kept(self, shop_id: int) -> list[HeldFile]:
        folder = self.root / str(shop_id)
        if not folder.is_dir():
            return []
        found = (self._read(path) for path in sorted(folder.glob(f"*{_META}")))
        return [held for held in found if held is not None]

    def _read(self, meta: Path) -> HeldFile | None:
        """The record, or None when it is missing, unreadable or expired (then removed)."""
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            held = HeldFile(token=data["token"], path=meta.with_suffix(_UPLOAD),
                            shop_id=int(data["shop_id"]), user_id=int(data["user_id"]),
                            source_name=str(data["source_name"]),
                            held_at=datetime.fromisoformat(data["held_at"]),
                            run_id=data.get("run_id"), options=dict(data.get("options") or {}))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("unreadable kept upload %s: removed", meta)
            meta.unlink(missing_ok=True)
            meta.with_suffix(_UPLOAD).unlink(missing_ok=True)
            return None
        if clock.now() - held.held_at > self.held_for or not held.path.is_file():
            self.release(held)
            return None
        return held

    def _write(self, held: HeldFile) -> None:
        """Written aside, then renamed: a reader never sees half a record."""
        meta = held.path.with_suffix(_META)
        draft = meta.with_name(f"held-{held.token}.tmp")
        draft.write_text(json.dumps({
            "token": held.token, "shop_id": held.shop_id, "user_id": held.user_id,
            "source_name": held.source_name, "held_at": held.held_at.isoformat(),
            "run_id": held.run_id, "options": held.options}), encoding="utf-8")
        draft.rename(meta)


__all__ = ["HELD_FOR", "HeldFile", "HeldUploads"]
