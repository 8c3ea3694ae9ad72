"""Open bibliographic services asked for the title of a book by its ISBN: the BnF catalogue's SRU
interface (UNIMARC records) and Open Library's Books API.

Each source turns a list of ISBNs into the descriptions it found, or raises LookupFailed when the
service could not answer (network, HTTP error, an unreadable body): a miss and a failure are
recorded differently (importers/enrichment.py). Nothing here touches the database. Responses
are bounded in size and parsed without DTDs, entities or network access: a service is trusted
to describe books, not to make the server read files.

Formats, from the services' public documentation:
- BnF: `GET {base}?version=1.2&operation=searchRetrieve&query=bib.isbn all "<isbn>"
  &recordSchema=unimarcxchange`; an SRU `searchRetrieveResponse` whose records hold a
  MarcXchange UNIMARC record: 200$a title proper, 700/701 $a surname $b forename (authors),
  710/711 $a (corporate authors), 214$c or, in older records, 210$c (publisher). Titles carry
  the non-sorting markers U+0098/U+009C around a leading article: they are dropped.
- Open Library: `GET {base}/api/books?bibkeys=ISBN:<a>,ISBN:<b>&format=json&jscmd=data`; a JSON
  object keyed by bibkey (absent: not found), each with `title`, `authors[].name`,
  `publishers[].name`.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from lxml import etree

# A record or a page of fifty is a few kilobytes; more is not an answer about books.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_SRW = "{http://www.loc.gov/zing/srw/}"
_MXC = "{info:lc/xmlns/marcxchange-v2}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_TEXT = 1000


@dataclass(frozen=True)
class Found:
    title: str
    authors: str = ""
    publisher: str = ""


class LookupFailed(Exception):
    """The service did not answer usefully; the ISBNs are asked again sooner than a miss."""


class Source(Protocol):
    name: str
    batch_size: int  # ISBNs per request

    def look_up(self, isbns: list[str]) -> dict[str, Found]:
        """What the service knows of each ISBN it found; raises LookupFailed."""
        ...

    def close(self) -> None:
        """Release the connections kept open to the service."""
        ...


class Pace:
    """At most one request per `min_interval_s` to one service, as their usage policies ask.

    The clock and the sleep are parameters so that a test can watch the pauses.
    """

    def __init__(self, min_interval_s: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval_s = min_interval_s
        self.clock, self.sleep = clock, sleep
        self.last: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.last is not None and now - self.last < self.min_interval_s:
            self.sleep(self.min_interval_s - (now - self.last))
            now = self.clock()
        self.last = now


class Http:
    """One HTTP client per run: a user agent naming us, a timeout, bounded bodies, a pace."""

    def __init__(self, *, user_agent: str, timeout_s: float, pace: Pace) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.timeout_s = timeout_s
        self.pace = pace

    def get(self, url: str, params: dict[str, str]) -> bytes:
        self.pace.wait()
        try:
            with self.session.get(url, params=params, timeout=self.timeout_s,
                                  stream=True) as response:
                if response.status_code != 200:
                    raise LookupFailed(f"HTTP {response.status_code}")
                body = b""
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise LookupFailed("response too large")
                return body
        except requests.RequestException as exc:
            raise LookupFailed(type(exc).__name__) from exc

    def close(self) -> None:
        self.session.close()


def clean(value: object) -> str:
    """A service's text as we store it: no control characters (BnF's non-sorting markers),
    spaces collapsed, bounded."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", value))
    return " ".join(text.split())[:_MAX_TEXT].strip(" /:;,")


class BnfSru:
    """The BnF general catalogue through SRU, one ISBN per request (its ISBN index takes one)."""

    name = "bnf"
    batch_size = 1

    def __init__(self, base_url: str, http: Http) -> None:
        self.base_url, self.http = base_url, http

    def close(self) -> None:
        self.http.close()

    def look_up(self, isbns: list[str]) -> dict[str, Found]:
        found = {}
        for isbn in isbns:
            body = self.http.get(self.base_url, {
                "version": "1.2", "operation": "searchRetrieve",
                "query": f'bib.isbn all "{isbn}"', "recordSchema": "unimarcxchange",
                "maximumRecords": "3"})
            described = unimarc_description(body)
            if described is not None:
                found[isbn] = described
        return found


def unimarc_description(body: bytes) -> Found | None:
    """The first record with a title in an SRU answer; None when there is none."""
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise LookupFailed("unreadable SRU answer") from exc
    if root.tag != f"{_SRW}searchRetrieveResponse":
        raise LookupFailed(f"not an SRU answer: {root.tag}")
    for record in root.iter(f"{_MXC}record"):
        fields: dict[str, list[dict[str, str]]] = {}
        for datafield in record.iter(f"{_MXC}datafield"):
            subfields: dict[str, str] = {}
            for sub in datafield.iter(f"{_MXC}subfield"):
                subfields.setdefault(sub.get("code", ""), sub.text or "")
            fields.setdefault(datafield.get("tag", ""), []).append(subfields)
        title = clean(_first(fields, "200", "a"))
        if not title:
            continue
        people = [" ".join(filter(None, (clean(f.get("b")), clean(f.get("a")))))
                  for tag in ("700", "701") for f in fields.get(tag, [])]
        people += [clean(f.get("a")) for tag in ("710", "711") for f in fields.get(tag, [])]
        publisher = clean(_first(fields, "214", "c") or _first(fields, "210", "c"))
        return Found(title, ", ".join(filter(None, people)), publisher)
    return None


def _first(fields: dict[str, list[dict[str, str]]], tag: str, code: str) -> str:
    return next((f[code] for f in fields.get(tag, []) if f.get(code)), "")


class OpenLibrary:
    """Open Library's Books API, fifty ISBNs per request."""

    name = "openlibrary"
    batch_size = 50

    def __init__(self, base_url: str, http: Http) -> None:
        self.base_url, self.http = base_url.rstrip("/"), http

    def close(self) -> None:
        self.http.close()

    def look_up(self, isbns: list[str]) -> dict[str, Found]:
        body = self.http.get(f"{self.base_url}/api/books", {
            "bibkeys": ",".join(f"ISBN:{isbn}" for isbn in isbns), "format": "json",
            "jscmd": "data"})
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise LookupFailed("unreadable Open Library answer") from exc
        if not isinstance(answer, dict):
            raise LookupFailed("unexpected Open Library answer")
        found = {}
        for isbn in isbns:
            described = _open_library_description(answer.get(f"ISBN:{isbn}"))
            if described is not None:
                found[isbn] = described
        return found


def _open_library_description(data: Any) -> Found | None:
    if not isinstance(data, dict) or not clean(data.get("title")):
        return None
    def names(key: str) -> list[str]:
        items = data.get(key)
        return [clean(item.get("name")) for item in items if isinstance(item, dict)] \
            if isinstance(items, list) else []
    return Found(clean(data["title"]), ", ".join(filter(None, names("authors"))),
                 next(iter(filter(None, names("publishers"))), ""))


SOURCES: dict[str, type[BnfSru] | type[OpenLibrary]] = {"bnf": BnfSru, "openlibrary": OpenLibrary}
