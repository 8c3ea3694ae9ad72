"""The JSON stock shape French till vendors already serve to aggregators, as a file or pulled.

`{"stocks": [{"ref": "<EAN13>", "available": <int>, "price": <number>}], "total": ...}`, price
optional. The line number of a stock is its 1-based position in the feed (across pages).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import ijson
import requests

from app.isbn import CodeError, normalize_code
from app.text import UTF8_BOM
from geo.timezones import DEFAULT_ZONE
from importers.records import FileRefused, LineIssue, StockRecord, negative_quantity_notice
from importers.validate import PRICE_UNIT_FACTORS, ValueProblem, parse_price, parse_quantity

_EXPORT_TIME_KEYS = ("exported_at", "generated_at", "date")
# Far beyond any stock feed's nesting (3: the document, `stocks`, an entry), far below what
# would strain the parser.
MAX_JSON_DEPTH = 64
_OPENING = frozenset({"start_map", "start_array"})
_CLOSING = frozenset({"end_map", "end_array"})
# A nested value in a stock entry: never read, only reported when it stands where a value is due.
SKIPPED = "{…}"
_LOCAL_ZONE = ZoneInfo(DEFAULT_ZONE)


class JsonFileSource:
    """A JSON stock file, streamed: memory stays flat whatever the file's size or nesting.

    One pass reads the entries and the top-level export time; `exported_at` asked before
    the entries were read (a file sent twice) costs a pass of its own. Every refusal is raised
    while iterating, inside the merge, which records it like any other refused file.
    """

    format = "json"

    def __init__(self, path: Path, *, price_unit: str = "euros") -> None:
        self.path = path
        self.price_unit = _checked_unit(price_unit)
        self._times: dict[str, str] | None = None

    @property
    def exported_at(self) -> datetime | None:
        if self._times is None:
            try:
                for _ in self._walk():
                    pass
            except FileRefused:
                return None  # iterating reports the refusal, inside the merge
        return _export_time(self._times or {})

    def __iter__(self) -> Iterator[StockRecord | LineIssue]:
        for line, entry in enumerate(self._walk(), start=1):
            yield from _read_entry(line, entry, self.price_unit)

    def _walk(self) -> Iterator[Any]:
        """The entries of `stocks`, keeping the top-level strings that may date the file."""
        times: dict[str, str] = {}
        with self.path.open("rb") as handle:
            if handle.read(len(UTF8_BOM)) != UTF8_BOM:
                handle.seek(0)
            yield from stock_entries(handle, times)
        self._times = times


def stock_entries(handle: IO[bytes], times: dict[str, str]) -> Iterator[Any]:
    """Each element of the top-level `stocks` list, as read by `_read_entry`; `times` gets the
    top-level keys that may date the export.

    Built from the parser's events, not by the parser: an entry keeps only its scalar members
    (a nested value becomes SKIPPED, unread), so no entry, however large or deep, is ever held
    whole. Nesting past MAX_JSON_DEPTH refuses the file: no stock file needs it.
    """
    depth = 0
    stocks_depth = 0  # depth inside `stocks` (1: between its entries), 0 outside it
    key: str | None = None
    entry: dict[str, Any] | None = None
    seen_stocks = False
    try:
        for event, value in ijson.basic_parse(handle, use_float=False):
            if event in _OPENING:
                depth += 1
                if depth > MAX_JSON_DEPTH:
                    raise FileRefused("too_deep", f"Le JSON est imbriqué sur plus de "
                                                  f"{MAX_JSON_DEPTH} niveaux : ce n'est pas un "
                                                  "fichier de stock.")
                if depth == 1 and event != "start_map":
                    raise _not_stock_json()
                if depth == 2 and key == "stocks":
                    if event != "start_array":
                        raise _not_stock_json()
                    seen_stocks, stocks_depth = True, 1
                elif stocks_depth:
                    stocks_depth += 1
                    if stocks_depth == 2:
                        entry = {} if event == "start_map" else None
                        if entry is None:
                            yield SKIPPED
                    elif stocks_depth == 3 and entry is not None and key is not None:
                        entry[key] = SKIPPED
            elif event in _CLOSING:
                depth -= 1
                if stocks_depth:
                    stocks_depth -= 1
                    if stocks_depth == 1 and entry is not None:
                        yield entry
                        entry = None
            elif event == "map_key":
                key = value
            elif depth == 1:
                if key in _EXPORT_TIME_KEYS and event == "string":
                    times[key] = value
                elif key == "stocks":
                    raise _not_stock_json()
            elif stocks_depth == 1:
                yield value
            elif stocks_depth == 2 and entry is not None and key is not None:
                entry[key] = value
    except ijson.JSONError as exc:
        raise _unreadable(str(exc), started=depth > 0 or seen_stocks) from None
    except (ValueError, SystemError):  # a number of thousands of digits, refused by int()
        raise FileRefused("invalid_json", "JSON illisible : un nombre y compte des milliers de "
                                          "chiffres.") from None
    if not seen_stocks:
        raise _not_stock_json()


def pull_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    """A configured pull URL without its user info, and the basic-auth credentials that rode in
    it: they go to the request, never into a run's source name or a log."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username), unquote(parts.password or ""))


class JsonPullSource:
    """The same shape pulled from a vendor's API, page by page with an `after` cursor.

    Paging stops at an empty page, or at a short one unless the page's `total` says more are
    due (an API capping `limit` below ours must not end the pull early). A network or HTTP
    failure raises FileRefused("pull_failed") even mid-iteration: the merge refuses the whole
    run, so a half-pulled snapshot never zeroes the books it did not reach.
    `exported_at` stays None: the caller dates the snapshot with the pull time.
    """

    format = "json"

    def __init__(self, url: str, *, price_unit: str = "euros",
                 auth: tuple[str, str] | None = None, timeout_s: float = 20,
                 page_size: int = 1000, max_pages: int = 10000) -> None:
        self.url = url
        self.price_unit = _checked_unit(price_unit)
        self.auth = auth
        self.timeout_s = timeout_s
        self.page_size = page_size
        self.max_pages = max_pages
        self.exported_at: datetime | None = None

    def __iter__(self) -> Iterator[StockRecord | LineIssue]:
        line, after = 0, None
        with requests.Session() as http:
            for _ in range(self.max_pages):
                stocks, total = self._fetch(http, after)
                for entry in stocks:
                    line += 1
                    yield from _read_entry(line, entry, self.price_unit)
                if not stocks or (len(stocks) < self.page_size and line >= (total or 0)):
                    return
                last = stocks[-1].get("ref") if isinstance(stocks[-1], dict) else None
                if last is None or str(last).strip() in ("", after):
                    raise FileRefused("pull_failed", "Le serveur de stock ne fait pas avancer "
                                      "la pagination (paramètre after) : import interrompu.")
                after = str(last).strip()
        raise FileRefused("pull_failed", f"Plus de {self.max_pages} pages de stock : import "
                                         "interrompu pour ne pas boucler sans fin.")

    def _fetch(self, http: requests.Session, after: str | None) -> tuple[list[Any], int | None]:
        """One page of stocks, and the total the API announces, if it does."""
        params: dict[str, str | int] = {"limit": self.page_size}
        if after is not None:
            params["after"] = after
        try:
            response = http.get(self.url, params=params, auth=self.auth,
                                timeout=(self.timeout_s, self.timeout_s))
        except requests.Timeout:
            raise FileRefused("pull_failed", f"Le serveur de stock n'a pas répondu en "
                                             f"{self.timeout_s:g} s.") from None
        except requests.RequestException as exc:
            raise FileRefused("pull_failed", f"Le serveur de stock est injoignable "
                                             f"({type(exc).__name__}).") from None
        if not response.ok:
            raise FileRefused("pull_failed", f"Le serveur de stock a répondu par une erreur "
                                             f"HTTP {response.status_code}.")
        document = _load(response.content)
        total = document.get("total") if isinstance(document, dict) else None
        return _stocks_of(document), total if isinstance(total, int) else None


def _checked_unit(price_unit: str) -> str:
    """A wrong feed setting is a configuration bug: fail at setup, not on the first price."""
    if price_unit not in PRICE_UNIT_FACTORS:
        raise ValueError(f"unknown price unit {price_unit!r}")
    return price_unit


def _load(data: bytes) -> Any:
    """A pulled page, small enough to parse whole (`limit` entries)."""
    if not data.strip():
        raise FileRefused("empty_file", "Le fichier est vide.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused("invalid_json", f"Le JSON n'est pas encodé en UTF-8 (octet "
                                          f"{exc.start}).") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise FileRefused("too_deep", f"Le JSON est imbriqué sur plus de {MAX_JSON_DEPTH} "
                                      "niveaux : ce n'est pas un fichier de stock.") from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise FileRefused("truncated", f"Le JSON s'arrête avant la fin (ligne {exc.lineno}, "
                                           f"colonne {exc.colno}) : il a peut-être été coupé "
                                           "pendant l'envoi.") from None
        raise FileRefused("invalid_json", f"JSON illisible ligne {exc.lineno}, colonne "
                                          f"{exc.colno}.") from None


def _stocks_of(document: Any) -> list[Any]:
    stocks = document.get("stocks") if isinstance(document, dict) else None
    if not isinstance(stocks, list):
        raise _not_stock_json()
    return stocks


def _not_stock_json() -> FileRefused:
    return FileRefused("not_stock_json", "Ce JSON n'est pas un fichier de stock : la liste "
                                         "« stocks » est absente.")


def _unreadable(error: str, *, started: bool) -> FileRefused:
    """The streaming parser's error in the shop's words; its second line shows the spot."""
    if "premature EOF" in error:
        if not started:
            return FileRefused("empty_file", "Le fichier est vide.")
        return FileRefused("truncated", "Le JSON s'arrête avant la fin : il a peut-être été "
                                        "coupé pendant l'envoi.")
    if "UTF8" in error:
        return FileRefused("invalid_json", "Le JSON n'est pas encodé en UTF-8.")
    lines = error.splitlines()
    spot = lines[1].strip() if len(lines) > 1 else ""
    if "NaN" in spot or "Infinity" in spot:
        return FileRefused("invalid_json", f"JSON illisible près de « {spot} » : NaN et Infinity "
                                           "ne sont pas des nombres JSON, écrivez null.")
    return FileRefused("invalid_json", f"JSON illisible près de « {spot} ».")


def _export_time(document: dict[str, Any]) -> datetime | None:
    """The first readable ISO time among the usual keys; a naive one is in the home zone."""
    for key in _EXPORT_TIME_KEYS:
        value = document.get(key)
        if not isinstance(value, str):
            continue
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_LOCAL_ZONE)
    return None


def _read_entry(line: int, entry: Any, price_unit: str) -> Iterator[StockRecord | LineIssue]:
    if not isinstance(entry, dict):
        raw = entry if entry is SKIPPED else json.dumps(entry, ensure_ascii=False)[:200]
        yield LineIssue(line, "stocks", raw, "invalid_entry",
                        "Cet élément de « stocks » n'est pas un objet JSON.")
        return
    ref = entry.get("ref")
    if ref is None or not str(ref).strip():
        yield LineIssue(line, "ref", "", "missing_code", "Référence (ref) absente.")
        return
    try:
        code = normalize_code(ref if isinstance(ref, (str, int)) else str(ref))
        quantity = parse_quantity(entry.get("available"))
    except CodeError as exc:
        yield LineIssue(line, "ref", str(ref), exc.reason, str(exc))
        return
    except ValueProblem as exc:
        yield LineIssue(line, "available", str(entry.get("available", "")), exc.reason, str(exc))
        return
    if quantity < 0:
        yield negative_quantity_notice(line, "available", str(quantity), quantity)
        quantity = 0
    price = None
    try:
        price = parse_price(entry.get("price"), unit=price_unit)
    except ValueProblem as exc:  # the stock is still worth applying without its price
        yield LineIssue(line, "price", str(entry.get("price")), exc.reason, str(exc),
                        rejected=False)
    yield StockRecord(line=line, code=code.code, kind=code.kind, quantity=quantity,
                      price_cents=price)
