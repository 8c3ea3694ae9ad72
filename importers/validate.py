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
# Beyond these a value is a shifted column (a code read as a quantity), not a real count or price;
# they would also overflow the 32-bit columns of the stock table, and end the whole run there.
MAX_QUANTITY = 100_000
MAX_PRICE_CENTS = 10_000_000
# Decimal exponents past which a value is implausible in any unit, checked before any arithmetic:
# `1e999999` must not become a million-digit integer.
_MAX_QUANTITY_EXPONENT = 5
_MAX_PRICE_EXPONENT = 10
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"(€|eur|euros?|\$|cad|chf)", re.IGNORECASE)
_PLAIN_EUROS = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")


class ValueProblem(ValueError):
    """A value that cannot be read; `reason` is a stable code, `str()` a French message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_quantity(raw: str | int | float | Decimal | None) -> int:
    """An integer count. `3`, `3.0`, ` 3 `, `-1` (the caller clamps and reports negatives).

    At most MAX_QUANTITY: a larger count is refused as implausible, whatever the format.
    """
    if isinstance(raw, bool) or raw is None:
        raise ValueProblem("missing_quantity", "quantité absente")
    if isinstance(raw, int):
        return plausible_quantity(raw, raw)
    text = _SPACES.sub("", str(raw)).replace(",", ".")
    if not text:
        raise ValueProblem("missing_quantity", "quantité absente")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueProblem("invalid_quantity", f"quantité illisible : « {raw} »") from None
    if not value.is_finite():
        raise ValueProblem("invalid_quantity", f"quantité illisible : « {raw} »")
    if value and value.adjusted() > _MAX_QUANTITY_EXPONENT:
        raise _implausible_quantity(raw)
    if value != value.to_integral_value():
        raise ValueProblem("invalid_quantity", f"quantité non entière : « {raw} »")
    return plausible_quantity(int(value), raw)


def plausible_quantity(quantity: int, raw: object) -> int:
    """`quantity`, unless it is past MAX_QUANTITY either way; also for a sum of counts (ONIX
    locations). A count of minus a billion is a shifted column, not returns to book."""
    if abs(quantity) > MAX_QUANTITY:
        raise _implausible_quantity(raw)
    return quantity


def _implausible_quantity(raw: object) -> ValueProblem:
    return ValueProblem("implausible_quantity", f"quantité invraisemblable : « {raw} »")


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
    """The price in cents, or None when the line gives none; at most MAX_PRICE_CENTS."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and (plain := _PLAIN_EUROS.fullmatch(raw)) and unit == "euros":
        # `12,50` or `8.9`, as most tills write it: exact in integers, without Decimal's cost.
        cents = int(plain[1]) * 100 + int((plain[2] or "").ljust(2, "0"))
    else:
        cents = _decimal_cents(raw, unit)
    if cents > MAX_PRICE_CENTS:
        raise ValueProblem("invalid_price", f"prix invraisemblable : « {raw} »")
    return cents


def _decimal_cents(raw: str | int | float | Decimal, unit: str) -> int:
    try:
        value = Decimal(str(raw)) if not isinstance(raw, str) else _decimal_from_locale(raw)
    except InvalidOperation:
        raise ValueProblem("invalid_price", f"prix illisible : « {raw} »") from None
    if not value.is_finite() or value < 0:
        raise ValueProblem("invalid_price", f"prix invalide : « {raw} »")
    if value and value.adjusted() > _MAX_PRICE_EXPONENT:
        raise ValueProblem("invalid_price", f"prix invraisemblable : « {raw} »")
    return int((value * PRICE_UNIT_FACTORS[unit]).to_integral_value())
