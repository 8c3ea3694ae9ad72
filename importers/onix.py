"""ONIX for Books stock files (3.0/3.1, 2.1 tolerated), in reference or short tags.

Files from distributors and shop networks reach a gigabyte, so products are streamed one at a
time and dropped once read: memory stays flat whatever the file size. The parser never fetches
anything (no DTD, no external entity, no network): a stock file must not be able to make the
server read its own files (XXE). libxml2's default size limits (huge_tree off) are kept on
purpose: no real product has a 10 MB text node, and refusing one keeps the memory bound.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from app.isbn import Code, CodeError, normalize_code
from geo.timezones import DEFAULT_ZONE
from importers.records import FileRefused, LineIssue, StockRecord, negative_quantity_notice
from importers.validate import ValueProblem, parse_price, parse_quantity, plausible_quantity

_LOCAL_ZONE = ZoneInfo(DEFAULT_ZONE)
_PARSER_OPTIONS: dict[str, Any] = {"resolve_entities": False, "no_network": True,
                                   "load_dtd": False}
_ROOTS = {"ONIXMessage": False, "ONIXmessage": True}  # root name -> short tags
# Wrappers read through as if their content sat in Product, as it does in 2.1 (but for the
# supply details, merged: their stocks are summed and their prices compared as one).
_WRAPPERS = frozenset({"DescriptiveDetail", "PublishingDetail", "ProductSupply", "SupplyDetail"})
# Composites read as sub-nodes; the short tag of a composite is its name in lower case.
_COMPOSITES = frozenset({"Header", "Product", "ProductIdentifier", "TitleDetail", "Title",
                         "TitleElement", "Contributor", "Publisher", "Stock",
                         "LocationIdentifier", "Price"})
# Elements read, with their EDItEUR short tags; SentDate, ISBN, EAN13, PriceTypeCode are 2.1.
_SHORT_TAGS = {
    "SentDateTime": "x307", "SentDate": "m182", "RecordReference": "a001",
    "ProductIDType": "b221", "IDValue": "b244", "ISBN": "b004", "EAN13": "b005",
    "TitleType": "b202", "TitleElementLevel": "x409", "TitleText": "b203",
    "TitlePrefix": "b030", "TitleWithoutPrefix": "b031",
    "ContributorRole": "b035", "PersonName": "b036", "PersonNameInverted": "b037",
    "NamesBeforeKey": "b039", "KeyNames": "b040", "CorporateName": "b047",
    "PublishingRole": "b291", "PublisherName": "b081",
    "OnHand": "j350", "PriceType": "x462", "PriceTypeCode": "j148", "PriceAmount": "j151",
    "CurrencyCode": "j152",
} | {name: name.lower() for name in _COMPOSITES | _WRAPPERS}
# 2.1 names read as their 3.x counterparts (a 2.1 Title holds TitleText without TitleElement).
_ALIASES = {"SentDate": "SentDateTime", "PriceTypeCode": "PriceType", "Title": "TitleDetail"}
_ID_PREFERENCE = ("15", "03", "02")  # ProductIDType (list 5): ISBN-13, GTIN-13, ISBN-10
_PRICE_PREFERENCE = ("04", "02")  # PriceType (list 58): fixed retail, then RRP, incl. tax
_SENT = re.compile(r"(\d{8})(?:T?(\d{4})(\d{2})?)?(Z|[+-]\d{4})?")

# A product reduced to what we read: reference name -> texts (elements) or sub-nodes.
_Node = dict[str, list[Any]]


class OnixSource:
    """A shop's ONIX stock snapshot, filtered to one location when the file covers several.

    `price_unit` is accepted for a uniform feed setting but ignored: ONIX PriceAmount is always
    in currency units with a decimal point, whatever the till's other exports use.
    FileRefused may be raised mid-iteration (a second location, a cut-off file); the merge then
    refuses the whole file, so records already yielded are never applied.
    """

    format = "onix"

    def __init__(self, path: Path, *, price_unit: str = "euros",
                 location_code: str | None = None) -> None:
        self.path = path
        self.location_code = location_code
        try:
            self.exported_at: datetime | None = _read_head(path)[1]
        except FileRefused:
            self.exported_at = None  # iterating reports the refusal, inside the merge

    def __iter__(self) -> Iterator[StockRecord | LineIssue]:
        names = _read_head(self.path)[0]
        product_tag = next(tag for tag, name in names.items() if name == "Product")
        locations: set[str | None] = set()
        with self.path.open("rb") as handle:
            products = etree.iterparse(handle, events=("end",), tag=product_tag,
                                       **_PARSER_OPTIONS)
            try:
                for _, element in products:
                    line = element.sourceline or 0
                    product = _reduce(element, names, {})
                    _release(element)
                    yield from self._read_product(line, product, locations)
            except etree.XMLSyntaxError as exc:
                raise _truncated(exc) from None

    def _read_product(self, line: int, product: _Node,
                      locations: set[str | None]) -> Iterator[StockRecord | LineIssue]:
        quantity = self._quantity(line, product, locations)
        if isinstance(quantity, LineIssue):
            yield quantity
        if not isinstance(quantity, int):
            return
        code = _code(line, product)
        if isinstance(code, LineIssue):
            yield code
            return
        if quantity < 0:
            yield negative_quantity_notice(line, "OnHand", str(quantity), quantity)
            quantity = 0
        price = _price(line, product)
        if isinstance(price, LineIssue):
            yield price
        yield StockRecord(line=line, code=code.code, kind=code.kind, quantity=quantity,
                          price_cents=None if isinstance(price, LineIssue) else price,
                          title=_title(product), authors=_authors(product),
                          publisher=_text(_best(product.get("Publisher", []), "PublishingRole",
                                                ("01",)), "PublisherName"))

    def _quantity(self, line: int, product: _Node,
                  locations: set[str | None]) -> int | LineIssue | None:
        """Sum of OnHand at the wanted location; None when the product is not stocked there.

        OnOrder is ignored: copies ordered are not on the shelf.
        """
        stocks = product.get("Stock", [])
        wanted = []
        for stock in stocks:
            ids = [_text(place, "IDValue") for place in stock.get("LocationIdentifier", ())]
            if self.location_code is None:
                locations.add(ids[0] if ids else None)
                if len(locations) > 1:
                    raise _several_locations(locations)
                wanted.append(stock)
            elif self.location_code in ids:
                wanted.append(stock)
        if stocks and not wanted:
            return None
        amounts = [amount for stock in wanted for amount in stock.get("OnHand", ())]
        if not amounts:
            return LineIssue(line, "OnHand", "", "missing_quantity",
                             "Aucune quantité en stock (Stock/OnHand) pour ce produit.")
        raw = " + ".join(amounts)
        try:
            return plausible_quantity(sum(parse_quantity(amount) for amount in amounts), raw)
        except ValueProblem as exc:
            return LineIssue(line, "OnHand", raw, exc.reason, str(exc))


def _read_head(path: Path) -> tuple[dict[str, str], datetime | None]:
    """This file's tag dialect and SentDateTime, reading no further than the first product."""
    names: dict[str, str] = {}
    sent_at = None
    try:
        with path.open("rb") as handle:
            for event, element in etree.iterparse(handle, events=("start", "end"),
                                                  **_PARSER_OPTIONS):
                if not names:
                    names = _dialect(element.tag)
                    continue
                name = names.get(element.tag)
                if (event, name) in {("start", "Product"), ("end", "Header")}:
                    break
                if event == "end" and name == "SentDateTime":
                    sent_at = _parse_sent((element.text or "").strip())
    except etree.XMLSyntaxError as exc:
        with path.open("rb") as handle:  # no root at all: blank, or cut before it
            if not names and not handle.read(1 << 16).strip():
                raise FileRefused("empty_file", "Le fichier est vide.") from None
        raise _truncated(exc) from None
    return names, sent_at


def _dialect(root_tag: str) -> dict[str, str]:
    """Tag as written in this file -> name we read it as.

    The root says it all: `ONIXmessage` means short tags, and every element shares the root's
    namespace (or none), so tags match exactly without stripping namespaces one by one.
    """
    namespace, _, local = root_tag.rpartition("}")
    if local not in _ROOTS:
        raise FileRefused("not_onix", f"Ce fichier n'est pas un message ONIX (élément racine "
                                      f"« {local} »).")
    prefix = f"{namespace}}}" if namespace else ""
    return {prefix + (short if _ROOTS[local] else name): _ALIASES.get(name, name)
            for name, short in _SHORT_TAGS.items()}


def _reduce(element: etree._Element, names: dict[str, str], node: _Node) -> _Node:
    """The parts of an element we read, as plain dicts: everything else is skipped unseen.

    Comments and (unresolved) entity references have non-string tags and fall out here too.
    """
    for child in element:
        name = names.get(child.tag)
        if name in _WRAPPERS:
            _reduce(child, names, node)
        elif name in _COMPOSITES:
            node.setdefault(name, []).append(_reduce(child, names, {}))
        elif name is not None:
            node.setdefault(name, []).append((child.text or "").strip())
    return node


def _release(element: etree._Element) -> None:
    """Free the product and the empty shells lxml keeps of earlier siblings."""
    element.clear()  # the tail too (keep_tail defaults to False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _parse_sent(raw: str) -> datetime | None:
    """ONIX dates: YYYYMMDD, YYYYMMDD[T]hhmm[ss], optional Z or ±hhmm; no zone: the home zone.

    An unreadable date is not worth refusing a file for: the caller falls back to the file time.
    """
    match = _SENT.fullmatch(raw)
    if not match:
        return None
    day, hours_minutes, seconds, zone = match.groups()
    stamp = f"{day}{hours_minutes or '0000'}{seconds or '00'}{zone or ''}"
    try:
        parsed = datetime.strptime(stamp, "%Y%m%d%H%M%S%z" if zone else "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return parsed if zone else parsed.replace(tzinfo=_LOCAL_ZONE)


def _code(line: int, product: _Node) -> Code | LineIssue:
    """The preferred identifier that normalises; else why the first one did not."""
    by_type: dict[str, str] = {}
    for identifier in product.get("ProductIdentifier", ()):
        by_type.setdefault(_text(identifier, "ProductIDType"), _text(identifier, "IDValue"))
    by_type.setdefault("03", _text(product, "EAN13"))
    by_type.setdefault("02", _text(product, "ISBN"))
    candidates = [by_type[kind] for kind in _ID_PREFERENCE if by_type.get(kind)]
    if not candidates:
        return LineIssue(line, "ProductIdentifier", _text(product, "RecordReference"),
                         "missing_code", "Produit sans ISBN ni EAN (ProductIDType 15, 03 ou 02).")
    errors: list[CodeError] = []
    for raw in candidates:
        try:
            return normalize_code(raw)
        except CodeError as exc:
            errors.append(exc)
    return LineIssue(line, "ProductIdentifier", candidates[0], errors[0].reason, str(errors[0]))


def _price(line: int, product: _Node) -> int | LineIssue | None:
    """The euro retail price incl. tax; other currencies are no use to a French reader."""
    prices = [price for price in product.get("Price", ())
              if _text(price, "CurrencyCode") in {"", "EUR"}]
    amount = _text(_best(prices, "PriceType", _PRICE_PREFERENCE), "PriceAmount")
    try:
        return parse_price(amount, unit="euros")
    except ValueProblem as exc:
        return LineIssue(line, "PriceAmount", amount, exc.reason, str(exc), rejected=False)


def _title(product: _Node) -> str:
    detail = _best(product.get("TitleDetail", []), "TitleType", ("01",))
    element = _best(detail.get("TitleElement") or [detail], "TitleElementLevel", ("01",))
    return _text(element, "TitleText") or _joined(element, "TitlePrefix", "TitleWithoutPrefix")


def _authors(product: _Node) -> str:
    names = [_text(person, "PersonName") or _joined(person, "NamesBeforeKey", "KeyNames")
             or _text(person, "PersonNameInverted") or _text(person, "CorporateName")
             for person in product.get("Contributor", ())
             if "A01" in person.get("ContributorRole", ())]
    return ", ".join(filter(None, names))


def _best(nodes: list[_Node], field: str, preference: tuple[str, ...]) -> _Node:
    """The node whose `field` comes first in `preference`, else the first; {} when none."""
    def rank(node: _Node) -> int:
        value = _text(node, field)
        return preference.index(value) if value in preference else len(preference)
    return min(nodes, key=rank, default={})


def _text(node: _Node, name: str) -> str:
    values = node.get(name)
    return values[0] if values else ""


def _joined(node: _Node, *names: str) -> str:
    return " ".join(filter(None, (_text(node, name) for name in names)))


def _truncated(exc: etree.XMLSyntaxError) -> FileRefused:
    return FileRefused("truncated", f"Le fichier ONIX est interrompu ou mal formé vers la ligne "
                                    f"{exc.lineno} : il a peut-être été coupé pendant l'envoi. "
                                    "Aucune ligne n'a été appliquée.")


def _several_locations(locations: set[str | None]) -> FileRefused:
    codes = ", ".join(sorted(code or "(sans code)" for code in locations))
    return FileRefused("several_locations",
                       f"Le fichier contient le stock de plusieurs lieux (codes : {codes}). "
                       "Indiquez dans la configuration du flux le code de lieu "
                       "(LocationIdentifier) de cette librairie.")
