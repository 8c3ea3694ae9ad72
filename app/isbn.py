"""Normalise and classify the product codes booksellers send us: stock files, search box, forms.

Stock files come out of cash-register software and spreadsheets, which mangle codes in
predictable ways: hyphens (or the en dashes, non-breaking hyphens and minus signs a word processor
puts in their place) and ``ISBN`` prefixes, Excel's ``="..."`` wrapper, floats with a ``.0``
suffix, leading zeros dropped, scientific notation, scanner price add-ons. Cleaning
(:func:`_clean`) is kept apart from validation (:func:`normalize_code`) so that every
rejection carries a stable reason code for import reports and a French sentence for the shop.

Pure functions only: importers use this module without Flask or a database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

KINDS: Final[tuple[str, ...]] = ("isbn", "ismn", "gtin", "internal")
# Books and printed music: the only kinds ever shown outside the shop that holds them (GTINs are
# other products, `internal` codes mean something only inside their shop).
PUBLIC_CODE_KINDS: Final[tuple[str, ...]] = ("isbn", "ismn")

# Excel turns a long number into `9.78207E+12` (or `9,78207E+12` in French locales): the
# rounded digits are gone for good, so this must be caught before any cleaning could make
# the remains look like a code.
_SCIENTIFIC: Final = re.compile(r"\d(?:[.,]\d*\s*[eE]\s*[+-]?|\s*[eE]\s*[+-])\d")
_EXCEL_FORMULA: Final = re.compile(r'="(.*)"', re.DOTALL)
# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus
# sign, small and full-width hyphen-minus: what word processors and catalogues print as a hyphen.
_DASHES: Final = "\\-\u2010-\u2015\u2212\ufe63\uff0d"
# `ISBN-13`, `ISBN10:`, `ISBN-978...`, `ISMN M-...`... but not the `10` opening `ISBN1034567890`,
# an ISBN-10 of group 1.
_PREFIX: Final = re.compile(
    rf"(?:ISBN(?:-?1[03](?=[\s:]))?|EAN(?:-?13(?=[\s:]))?|ISMN)\s*[:{_DASHES}]?\s*",
    re.IGNORECASE,
)
# Only separators between code characters (and after an ISMN-10's `M`): a leading minus sign must
# stay visible.
_INNER_SEPARATORS: Final = re.compile(rf"(?<=[0-9XxMm])[\s{_DASHES}]+(?=[0-9Xx])")
_CODE_CHARACTERS: Final = re.compile(r"[0-9]+[Xx]?")
# An ISMN-10 (printed music before 2008): `M` then 9 digits, the last a check digit that the
# 979-0 EAN keeps unchanged (M weighs 3 x 3 = 9, as 9790 weighs 9 + 21 + 9 + 0 = 39: same unit).
_ISMN10: Final = re.compile(r"[Mm]([0-9]{9})")
# What a search box receives when someone types or pastes a code rather than a title.
_CODE_LIKE: Final = re.compile(rf"(?:[Mm][\s{_DASHES}]*)?[0-9][0-9\s{_DASHES}]*[Xx]?")
# A code pasted from a spreadsheet cell in scientific notation: the search can say why it fails.
_SCIENTIFIC_QUERY: Final = re.compile(r"\d[.,]\d+\s*[eE]\s*\+?\d{1,2}")


@dataclass(frozen=True, slots=True)
class Code:
    """A clean 13-digit code, its kind, and what had to be repaired, for the import report."""

    code: str
    kind: str
    repair: str | None = None


class CodeError(ValueError):
    """A rejected code: ``reason`` is for code and reports, ``str()`` for the bookseller."""

    def __init__(self, reason: str, raw: str | int, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.raw = raw


def normalize_code(raw: str | int, *, zero_lost: bool = False) -> Code:
    """Turn whatever a shop sent into a 13-digit code, or explain in French why we cannot.

    Integers are accepted because spreadsheet readers such as openpyxl return numeric cells
    as numbers. Repairs are only made when a check digit confirms them and, for a 9-digit code
    read as an ISBN-10 that lost its leading zero, when there is evidence the zero was lost: a
    number (an int, or text ending in `.0`: a numeric cell, which cannot hold a leading zero) or
    `zero_lost`, the caller's evidence from the rest of the file (see `importers.evidence`). One
    dropped digit elsewhere passes the ISBN-10 check once in eleven: without evidence, a repair
    would put a wrong book on a shelf.
    """
    text = raw if isinstance(raw, str) else str(raw)
    if kind := plain_kind(text):
        return Code(text, kind)
    if _SCIENTIFIC.search(text):
        raise CodeError(
            "scientific_notation",
            raw,
            f"Le code « {text.strip()} » est en notation scientifique : le tableur a arrondi "
            "le nombre et les derniers chiffres sont perdus. Réexportez la colonne des codes "
            "au format Texte.",
        )
    cleaned = _clean(text)
    if not cleaned:
        raise CodeError("empty_code", raw, "Le code est vide.")
    if ismn := _ISMN10.fullmatch(cleaned):
        return _ismn10(ismn[1], raw)
    if not cleaned.strip("0"):
        raise CodeError(
            "placeholder_code",
            raw,
            f"Le code « {text.strip()} » n'est fait que de zéros : c'est un code provisoire "
            "de la caisse, pas celui d'un livre. Saisissez le vrai code-barres.",
        )
    if not _CODE_CHARACTERS.fullmatch(cleaned) or (cleaned[-1] in "Xx" and len(cleaned) != 10):
        raise CodeError(
            "invalid_characters",
            raw,
            f"Le code « {text.strip()} » contient des caractères autres que des chiffres "
            "(seul un ISBN à 10 caractères peut finir par X).",
        )

    repair: str | None = None
    match len(cleaned):
        case 10:
            _check_isbn10(cleaned, raw)
            code, repair = _isbn10_to_isbn13(cleaned), "isbn10_converted"
        case 9 if _isbn10_valid("0" + cleaned):
            if not (zero_lost or _numeric(raw)):
                raise CodeError("unproven_leading_zero", raw, _unproven_zero_message(cleaned))
            code, repair = _isbn10_to_isbn13("0" + cleaned), "leading_zero_restored"
        case 12 if _ean13_valid("0" + cleaned):
            code, repair = "0" + cleaned, "leading_zero_restored"
        case 13:
            code = cleaned
        case 15 | 18:
            code, repair = cleaned[:13], "addon_removed"
        case length:
            raise CodeError(
                "invalid_length",
                raw,
                f"Le code « {text.strip()} » compte {length} caractères : un ISBN en compte "
                "10 ou 13, un code-barres EAN 13.",
            )
    if not _ean13_valid(code):
        raise CodeError("invalid_check_digit", raw, _check_digit_message(code))
    return Code(code=code, kind=_classify(code), repair=repair)


def lost_zero_candidate(raw: str | int) -> bool | None:
    """For a code of 9 digits, whether it is a valid ISBN-10 once a leading zero is put back;
    None for any other code. What a file's 9-digit codes say together is evidence (or not) that
    its zeros were lost (`importers.evidence`)."""
    cleaned = _clean(raw if isinstance(raw, str) else str(raw))
    if len(cleaned) != 9 or not cleaned.isdigit() or not cleaned.isascii():
        return None
    return _isbn10_valid("0" + cleaned)


def _numeric(raw: str | int) -> bool:
    """Whether the code came as a number (a numeric cell, a JSON number, `201633612.0` in a CSV
    written from one): a number cannot hold a leading zero, so losing it is no guess."""
    return isinstance(raw, int) or raw.strip().endswith(".0")


def _unproven_zero_message(cleaned: str) -> str:
    return (
        f"Le code « {cleaned} » a 9 chiffres. C'est peut-être un ISBN-10 dont le tableur a effacé "
        f"le 0 initial (0{cleaned}), mais rien dans le fichier ne le prouve : un chiffre perdu "
        "ailleurs donnerait un autre livre. Écrivez le code complet, ou formatez la colonne des "
        "codes en Texte avant d'exporter."
    )


def _ismn10(digits: str, raw: str | int) -> Code:
    """An ISMN-10 `M` + 9 digits as its 979-0 EAN, whose check digit is the same."""
    code = "9790" + digits
    if not _ean13_valid(code):
        raise CodeError("invalid_check_digit", raw, _check_digit_message("M" + digits))
    return Code(code=code, kind="ismn", repair="ismn10_converted")


def looks_like_isbn(text: str) -> bool:
    """Whether a search-box query is meant as a code, even a wrong one.

    The search then reports why the code is invalid instead of looking for titles made of
    digits. Titles such as « 1984 » are too short to count; an explicit ``ISBN``/``EAN``
    prefix is enough on its own, since the reader said what they meant.
    """
    stripped = text.strip()
    if _SCIENTIFIC_QUERY.fullmatch(stripped):
        return True
    prefix = _PREFIX.match(stripped)
    rest = stripped[prefix.end() :].strip() if prefix else stripped
    if not _CODE_LIKE.fullmatch(rest):
        return False
    return prefix is not None or 9 <= sum(c.isdigit() for c in rest) <= 18


def _clean(text: str) -> str:
    """Remove the wrappers spreadsheets and cash registers add, without judging the result."""
    cleaned = text.strip()
    if formula := _EXCEL_FORMULA.fullmatch(cleaned):
        cleaned = formula.group(1).strip()
    cleaned = cleaned.removeprefix("'").strip()
    if prefix := _PREFIX.match(cleaned):
        cleaned = cleaned[prefix.end() :].strip()
    cleaned = cleaned.removesuffix(".0")
    return _INNER_SEPARATORS.sub("", cleaned)


def _isbn10_valid(isbn10: str) -> bool:
    """ISBN-10 checksum: weights 10 down to 1, modulo 11, a final X standing for 10."""
    digits = [10 if c in "Xx" else int(c) for c in isbn10]
    weighted = sum(weight * digit for weight, digit in zip(range(10, 0, -1), digits, strict=True))
    return weighted % 11 == 0


def _check_isbn10(isbn10: str, raw: str | int) -> None:
    """Reject an ISBN-10 with a wrong check character, before it is rewritten as an ISBN-13."""
    if not _isbn10_valid(isbn10):
        raise CodeError("invalid_check_digit", raw, _check_digit_message(isbn10))


def _isbn10_to_isbn13(isbn10: str) -> str:
    """The 978-prefixed ISBN-13, whose EAN check digit replaces the ISBN-10 one."""
    body = "978" + isbn10[:9]
    return body + _ean13_check_digit(body)


# Twelve ASCII digits summed as bytes with weights 1 and 3 carry 6 * 48 + 3 * 6 * 48 of `0`s.
_ZEROS_IN_WEIGHTED_SUM: Final = 24 * ord("0")


def _ean13_check_digit(body: str) -> str:
    """EAN check digit of 12 ASCII digits: weights 1 and 3 alternating, rounded up to ten.

    Summed as bytes, since every stock line of every night comes through here.
    """
    digits = body.encode("ascii")
    total = sum(digits[0::2]) + 3 * sum(digits[1::2]) - _ZEROS_IN_WEIGHTED_SUM
    return str(-total % 10)


def _ean13_valid(code: str) -> bool:
    """Whether 13 ASCII digits end with their check digit: one typo or a rounded float fails."""
    return _ean13_check_digit(code[:12]) == code[12]


# A till's placeholder for "no barcode": a valid EAN-13, but no product's.
_ALL_ZEROS: Final = "0" * 13


def plain_kind(text: str) -> str | None:
    """The kind when the text is already a clean, valid EAN-13 (nearly every stock line), else
    None: the caller then goes through `normalize_code`, which cleans, repairs and explains."""
    if (len(text) == 13 and text.isdigit() and text.isascii() and _ean13_valid(text)
            and text != _ALL_ZEROS):
        return _classify(text)
    return None


def _check_digit_message(code: str) -> str:
    """Shared by ISBN-10 and EAN-13 failures, which a bookseller fixes the same way."""
    return (
        f"La clé de contrôle (dernier caractère) du code « {code} » est fausse : le code a "
        "peut-être été mal saisi, ou abîmé par un tableur."
    )


def _classify(code: str) -> str:
    """Kind by prefix: 979-0 is printed music (ISMN), which ISBN libraries take for an ISBN."""
    if code.startswith("9790"):
        return "ismn"
    if code.startswith(("978", "979")):
        return "isbn"
    if code.startswith("2"):
        return "internal"
    return "gtin"
