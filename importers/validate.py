"""Where a stock line's values are validated: quantities and prices as shops write them, in any
locale. Every format's parser (delimited, spreadsheet, ONIX, JSON) calls these, and the product
code goes through `app.isbn.normalize_code`, so a rule changes in one place for every format.

The price unit (euros, cents, thousandths) is a per-feed setting, never guessed per line: `1250`
is 12.50 EUR from one till and 1,250.00 EUR from another.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

PRICE_UNIT_FACTORS = {"euros": Decimal(100), "cents": Decimal(1), "thousandths": Decimal("0.1")}
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"(€|eur|euros?|\$|cad|chf)", re.IGNORECASE)
_PLAIN_EUROS = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")


class ValueProblem(ValueError):
    """A value that cannot be read; `reason` is a stable code, `str()` a French message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_quantity(raw: str | int | float | None) -> int:
    """An integer count. `3`, `3.0`, ` 3 `, `-1` (the caller clamps and reports negatives)."""
    if isinstance(raw, bool) or raw is None:
        raise ValueProblem("missing_quantity", "quantité absente")
    if isinstance(raw, int):
        return raw
    text = _SPACES.sub("", str(raw)).replace(",", ".")
    if not text:
        raise ValueProblem("missing_quantity", "quantité absente")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueProblem("invalid_quantity", f"quantité illisible : « {raw} »") from None
    if value != value.to_integral_value():
        raise ValueProblem("invalid_quantity", f"quantité non entière : « {raw} »")
    return int(value)


def _decimal_from_locale(text: str) -> Decimal:
    """`8,90`, `8.90`, `1 234,50`, `1.234,50`, `1,234.50` -> Decimal."""
    text = _SPACES.sub("", _CURRENCY.sub("", text))
    if "," in text and "." in text:
        # Whichever comes last is the decimal separator.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    return Decimal(text)


def parse_price(raw: str | int | float | Decimal | None, *, unit: str = "euros") -> int | None:
    """The price in cents, or None when the line gives none."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and (plain := _PLAIN_EUROS.fullmatch(raw)) and unit == "euros":
        # `12,50` or `8.9`, as most tills write it: exact in integers, without Decimal's cost.
        return int(plain[1]) * 100 + int((plain[2] or "").ljust(2, "0"))
    try:
        value = Decimal(str(raw)) if not isinstance(raw, str) else _decimal_from_locale(raw)
    except InvalidOperation:
        raise ValueProblem("invalid_price", f"prix illisible : « {raw} »") from None
    if not value.is_finite() or value < 0:
        raise ValueProblem("invalid_price", f"prix invalide : « {raw} »")
    return int((value * PRICE_UNIT_FACTORS[unit]).to_integral_value())
