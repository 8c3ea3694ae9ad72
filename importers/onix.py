"""ONIX for Books stock files (3.0/3.1, 2.1 tolerated), in reference or short tags, in UTF-8 or
UTF-16 (with or without a BOM).

Files from distributors and shop networks reach a gigabyte, so products are streamed one at a
time and dropped once read: memory stays flat whatever the file size. The parser never fetches
anything (no DTD, no external entity, no network): a stock file must not be able to make the
server read its own files (XXE). libxml2's default size limits (huge_tree off) are kept on
purpose: no real product has a 10 MB text node, and refusing one keeps the memory bound.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from app.isbn import Code, CodeError, normalize_code
from app.text import utf16_encoding
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
                         "LocationIdentifier", "StockQuantityCoded", "Price"})
# Elements read, with their EDItEUR short tags; SentDate, ISBN, EAN13, PriceTypeCode are 2.1.
_SHORT_TAGS = {
    "SentDateTime": "x307", "SentDate": "m182", "RecordReference": "a001",
    "ProductIDType": "b221", "IDValue": "b244", "ISBN": "b004", "EAN13": "b005",
    "TitleType": "b202", "TitleElementLevel": "x409", "TitleText": "b203",
    "TitlePrefix": "b030", "TitleWithoutPrefix": "b031",
    "ContributorRole": "b035", "PersonName": "b036", "PersonNameInverted": "b037",
    "NamesBeforeKey": "b039", "KeyNames": "b040", "CorporateName": "b047",
    "PublishingRole": "b291", "PublisherName": "b081",
    "OnHand": "j350", "StockQuantityCodeType": "j293", "StockQuantityCode": "j297",
    "PriceType": "x462", "PriceTypeCode": "j148", "PriceAmount": "j151",
    "CurrencyCode": "j152", "DefaultCurrencyCode": "m186",
} | {name: name.lower() for name in _COMPOSITES | _WRAPPERS}
# 2.1 names read as their 3.x counterparts (a 2.1 Title holds TitleText without TitleElement).
_ALIASES = {"SentDate": "SentDateTime", "PriceTypeCode": "PriceType", "Title": "TitleDetail"}
_ID_PREFERENCE = ("15", "03", "02")  # ProductIDType (list 5): ISBN-13, GTIN-13, ISBN-10
_PRICE_PREFERENCE = ("04", "02")  # PriceType (list 58): fixed retail, then RRP, incl. tax
_SENT = re.compile(r"(\d{8})(?:T?(\d{4})(\d{2})?)?(Z|[+-]\d{4})?")
# Prices are shown to French readers in euros and stored without a currency (stock.price_cents):
# a price in another currency is dropped with a notice, never relabelled, never converted.
_EURO = "EUR"
# libxml2 error codes (lxml's etree.ErrorTypes) that name the fault better than "malformed".
_ENCODING_ERRORS = frozenset({32, 79, 81, 113})  # unsupported/invalid encoding, mismatch
_CHARACTER_ERRORS = frozenset({6, 7, 9})  # a character (or &#...; reference) XML forbids
_CUT_ERRORS = frozenset({5, 77})  # extra content / premature end of data
# The character in libxml2's words: `invalid Char value 1`, `Char 0x0 out of allowed range`.
_CHARACTER_VALUE = re.compile(r"value (\d+)|Char (0x[0-9A-Fa-f]+)")
_LIBXML_UTF16 = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}  # libxml2's names

# Stock as text, as ONIX 2.1 distributor feeds (and StockQuantityCode values, code list 70's
# proprietary schemes) write it. OnHand should be a number, but many feeds say `100-500`, `NYP`,
# `In stock`. A range or a floor counts its lower bound, the amount that is certainly there.
_RANGE = re.compile(r"(\d+)\s*(?:-|\u2013|to|a)\s*(\d+)")
_AT_LEAST = re.compile(r"(\d+)\s*\+|(?:>=|\u2265)\s*(\d+)")
_MORE_THAN = re.compile(r"(?:>|over|more than|plus de)\s*(\d+)")
# None on the shelf: not yet published (code list 65's 10-17), out of stock (31), out of print
# or withdrawn (40-49), and their French spellings.
_NONE_IN_STOCK = frozenset({
    "nyp", "not yet published", "not yet available", "forthcoming", "out of stock", "oos",
    "tos", "temporarily out of stock", "out of print", "op", "oop", "withdrawn", "none", "nil",
    "no", "n", "unavailable", "not available", "sold out", "a paraitre", "epuise", "rupture",
    "rupture de stock", "indisponible", "non disponible", "pas en stock",
})
# In stock, no count: at least one copy is there, and no more is sure. Counted as 1, reported.
_SOME_IN_STOCK = frozenset({
    "in stock", "instock", "available", "yes", "y", "low", "low stock", "limited",
    "en stock", "disponible", "dispo", "oui",
})
IN_STOCK_COUNT = 1
# Products read with no Stock element at all before the file counts as a catalogue, not stock.
MAX_UNSTOCKED = 10_000

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
    # A stock import refuses a file without any stock (a catalogue); the catalogue import
    # (importers/catalogue.py) reads exactly those.
    refuses_catalogues = True

    def __init__(self, path: Path, *, price_unit: str = "euros",
                 location_code: str | None = None) -> None:
        self.path = path
        self.location_code = location_code
        try:
            self.exported_at: datetime | None = _read_head(path).sent_at
        except FileRefused:
            self.exported_at = None  # iterating reports the refusal, inside the merge

    def __iter__(self) -> Iterator[StockRecord | LineIssue]:
        head = _read_head(self.path)
        names = head.names
        product_tag = next(tag for tag, name in names.items() if name == "Product")
        locations: set[str | None] = set()
        # Until a product with stock shows this is a stock file, the products without any are
        # held: a catalogue (no stock at all) is refused as such, not as thousands of lines.
        unstocked: list[StockRecord | LineIssue] | None = [] if self.refuses_catalogues else None
        unstocked_products = 0
        with self.path.open("rb") as handle:
            products = etree.iterparse(handle, events=("end",), tag=product_tag,
                                       encoding=head.encoding, **_PARSER_OPTIONS)
            try:
                for _, element in products:
                    line = element.sourceline or 0
                    product = _reduce(element, names, {})
                    _release(element)
                    items = self._read_product(line, product, locations, head.currency)
                    if unstocked is None:
                        yield from items
                    elif "Stock" in product:
                        yield from unstocked
                        yield from items
                        unstocked = None
                    else:
                        unstocked.extend(items)
                        unstocked_products += 1
                        if unstocked_products >= MAX_UNSTOCKED:
                            raise _metadata_only(unstocked_products)
            except etree.XMLSyntaxError as exc:
                raise _syntax_refusal(exc, self.path) from None
        if unstocked_products and unstocked is not None:
            raise _metadata_only(unstocked_products)

    def _read_product(self, line: int, product: _Node, locations: set[str | None],
                      default_currency: str) -> Iterator[StockRecord | LineIssue]:
        quantity = self._quantity(line, product, locations)
        if isinstance(quantity, LineIssue):
            yield quantity
        if not isinstance(quantity, _Count):
            return
        code = _code(line, product)
        if isinstance(code, LineIssue):
            yield code
            return
        yield from quantity.notices
        count = quantity.count
        if count < 0:
            yield negative_quantity_notice(line, "OnHand", str(count), count)
            count = 0
        price = _price(line, product, default_currency)
        if isinstance(price, LineIssue):
            yield price
        yield StockRecord(line=line, code=code.code, kind=code.kind, quantity=count,
                          price_cents=None if isinstance(price, LineIssue) else price,
                          title=_title(product), authors=_authors(product),
                          publisher=_text(_best(product.get("Publisher", []), "PublishingRole",
                                                ("01",)), "PublisherName"))

    def _quantity(self, line: int, product: _Node,
                  locations: set[str | None]) -> _Count | LineIssue | None:
        """Sum of OnHand (else of StockQuantityCode) at the wanted location; None when the
        product is not stocked there.

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
        amounts = [amount for stock in wanted
                   for amount in stock.get("OnHand") or _coded_amounts(stock)]
        if not amounts:
            return LineIssue(line, "OnHand", "", "missing_quantity",
                             "Aucune quantité en stock (Stock/OnHand) pour ce produit.")
        raw = " + ".join(amounts)
        try:
            counts = [stock_count(amount) for amount in amounts]
            total = plausible_quantity(sum(count for count, _ in counts), raw)
        except ValueProblem as exc:
            return LineIssue(line, "OnHand", raw, exc.reason, str(exc))
        return _Count(total, [LineIssue(line, "OnHand", amount, "stock_without_count",
                                        f"« {amount} » sans nombre : compté comme "
                                        f"{IN_STOCK_COUNT} exemplaire, le seul sûr.",
                                        rejected=False)
                              for amount, (_, vague) in zip(amounts, counts, strict=True)
                              if vague])


@dataclass(frozen=True, slots=True)
class _Count:
    """A product's count at the shop's location, and what the shop should know about it."""

    count: int
    notices: list[LineIssue]


@dataclass(frozen=True, slots=True)
class _Head:
    """What the message's start says: its tag dialect, date, default currency and encoding."""

    names: dict[str, str]
    sent_at: datetime | None
    currency: str
    encoding: str | None  # given to the parser when it cannot tell (UTF-16 without a BOM)


def _coded_amounts(stock: _Node) -> list[str]:
    """StockQuantityCode values (code list 70: a proprietary scheme, or the APA's), read like
    OnHand: a feed without OnHand may give only these."""
    return [_text(coded, "StockQuantityCode") for coded in stock.get("StockQuantityCoded", ())
            if _text(coded, "StockQuantityCode")]


def stock_count(raw: str) -> tuple[int, bool]:
    """A stock value as feeds write it -> (count, vague). Numbers as in every format; a range
    (`100-500`) or a floor (`20+`, `>20`) counts its lower bound; `NYP`, `Out of stock` count 0;
    `In stock` without a number counts IN_STOCK_COUNT, vague (the caller reports it).
    Anything else raises ValueProblem, as an unreadable number does."""
    try:
        return parse_quantity(raw), False
    except ValueProblem as exc:
        problem = exc
    words = " ".join(_folded(raw).replace(".", " ").split())
    if match := _RANGE.fullmatch(words):
        low, high = int(match[1]), int(match[2])
        if low <= high:
            return parse_quantity(low), False
    elif match := _AT_LEAST.fullmatch(words):
        return parse_quantity(int(match[1] or match[2])), False
    elif match := _MORE_THAN.fullmatch(words):
        return parse_quantity(int(match[1]) + 1), False
    elif words in _NONE_IN_STOCK:
        return 0, False
    elif words in _SOME_IN_STOCK:
        return IN_STOCK_COUNT, True
    raise problem


def _folded(text: str) -> str:
    """Lower case without accents: `Épuisé`, `EPUISE` and `épuisé` read alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _read_head(path: Path) -> _Head:
    """This file's tag dialect, SentDateTime and DefaultCurrencyCode, reading no further than
    the first product."""
    names: dict[str, str] = {}
    sent_at = None
    currency = ""
    with path.open("rb") as handle:
        encoding = _bare_utf16(handle.read(64))
    try:
        with path.open("rb") as handle:
            for event, element in etree.iterparse(handle, events=("start", "end"),
                                                  encoding=encoding, **_PARSER_OPTIONS):
                if not names:
                    names = _dialect(element.tag)
                    continue
                name = names.get(element.tag)
                if (event, name) in {("start", "Product"), ("end", "Header")}:
                    break
                if event == "end" and name == "SentDateTime":
                    sent_at = _parse_sent((element.text or "").strip())
                if event == "end" and name == "DefaultCurrencyCode":
                    currency = (element.text or "").strip().upper()
    except etree.XMLSyntaxError as exc:
        with path.open("rb") as handle:  # no root at all: blank, or cut before it
            if not names and not handle.read(1 << 16).strip():
                raise FileRefused("empty_file", "Le fichier est vide.") from None
        raise _syntax_refusal(exc, path) from None
    return _Head(names, sent_at, currency, encoding)


def _bare_utf16(start: bytes) -> str | None:
    """The encoding to impose on a UTF-16 file without a BOM (libxml2 cannot tell it without an
    XML declaration); None when the parser can read the file's own signs (a BOM, UTF-8)."""
    return _LIBXML_UTF16.get(utf16_encoding(start) or "")


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


def _price(line: int, product: _Node, default_currency: str) -> int | LineIssue | None:
    """The euro retail price incl. tax, its currency given by the Price's CurrencyCode or else
    the header's DefaultCurrencyCode.

    A price stated in no currency, or only in others (SEK, AUD...), is dropped with a notice:
    relabelled as euros it would show a Swedish 129 kronor book at 129 EUR, and prices are
    stored without a currency (the stock table holds euro cents only).
    """
    prices = product.get("Price", ())
    currencies = [_text(price, "CurrencyCode").upper() or default_currency for price in prices]
    euro_prices = [price for price, currency in zip(prices, currencies, strict=True)
                   if currency == _EURO]
    if prices and not euro_prices:
        amount = _text(_best(list(prices), "PriceType", _PRICE_PREFERENCE), "PriceAmount")
        shown = " ".join(filter(None, (amount, *sorted(set(filter(None, currencies))))))
        if not any(currencies):
            return LineIssue(line, "PriceAmount", shown, "price_without_currency",
                             "Prix sans devise (ni CurrencyCode ni DefaultCurrencyCode) : ignoré, "
                             "le livre est enregistré sans prix.", rejected=False)
        return LineIssue(line, "CurrencyCode", shown, "price_not_in_euros",
                         "Prix dans une autre devise que l'euro : ignoré (jamais converti ni "
                         "affiché comme des euros), le livre est enregistré sans prix.",
                         rejected=False)
    amount = _text(_best(euro_prices, "PriceType", _PRICE_PREFERENCE), "PriceAmount")
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


def _syntax_refusal(exc: etree.XMLSyntaxError, path: Path) -> FileRefused:
    """The parser's error in the shop's words: a wrong encoding or a forbidden character is
    named as such; only a file that stops early is said to have been cut."""
    line = exc.lineno or 0
    code: int = getattr(exc, "code", 0)  # libxml2's error code (absent from lxml's stubs)
    if code in _ENCODING_ERRORS:
        return FileRefused("wrong_encoding", f"Le fichier ONIX contient, ligne {line}, des "
                                             "octets illisibles dans l'encodage qu'il annonce "
                                             "(UTF-8 s'il ne dit rien) : réexportez-le en UTF-8. "
                                             "Aucune ligne n'a été appliquée.")
    if code in _CHARACTER_ERRORS:
        value = _CHARACTER_VALUE.search(exc.msg)
        shown = f" (U+{int(value[1] or value[2], 0 if value[2] else 10):04X})" if value else ""
        return FileRefused("control_character", f"Le fichier ONIX contient, ligne {line}, un "
                                                f"caractère de contrôle que le XML interdit{shown} "
                                                ": l'export est abîmé, retirez ce caractère ou "
                                                "réexportez. Aucune ligne n'a été appliquée.")
    if code in _CUT_ERRORS or line >= _last_line(path):
        return FileRefused("truncated", f"Le fichier ONIX s'arrête avant sa fin (ligne {line}) : "
                                        "il a peut-être été coupé pendant l'envoi. Aucune ligne "
                                        "n'a été appliquée.")
    return FileRefused("malformed", f"Le fichier ONIX est mal formé ligne {line} : ce n'est pas "
                                    "du XML valide (détail technique : "
                                    f"{exc.msg.split(',')[0]}). Aucune ligne n'a été appliquée.")


def _last_line(path: Path) -> int:
    """The file's number of lines (read again only when refusing it)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) + 1


def _metadata_only(products: int) -> FileRefused:
    return FileRefused("no_stock", f"Aucun des {products} produits lus dans ce fichier ONIX ne "
                                   "donne de stock (élément Stock) : c'est un catalogue, pas "
                                   "un état du stock. Importez-le comme catalogue "
                                   "(rayons stock catalogue FICHIER) ; votre stock n'a pas "
                                   "changé.")


def _several_locations(locations: set[str | None]) -> FileRefused:
    codes = ", ".join(sorted(code or "(sans code)" for code in locations))
    return FileRefused("several_locations",
                       f"Le fichier contient le stock de plusieurs lieux (codes : {codes}). "
                       "Indiquez dans la configuration du flux le code de lieu "
                       "(LocationIdentifier) de cette librairie.")
