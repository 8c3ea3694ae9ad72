"""Product codes as they really arrive from cash registers, spreadsheets and search boxes.

Every check digit below was verified by computation, not copied from a catalogue.
"""
import subprocess
import sys

import pytest

from app.isbn import KINDS, Code, CodeError, looks_like_isbn, lost_zero_candidate, normalize_code

FOLIO = "9782070368228"  # Folio edition, ISBN-10 207036822X


@pytest.mark.parametrize(
    ("raw", "code", "kind", "repair"),
    [
        pytest.param(FOLIO, FOLIO, "isbn", None, id="clean-isbn13"),
        pytest.param("978-2-07-036822-8", FOLIO, "isbn", None, id="hyphens"),
        pytest.param("978 2 07 036822 8", FOLIO, "isbn", None, id="inner-spaces"),
        pytest.param("  9782070368228\t\n", FOLIO, "isbn", None, id="surrounding-whitespace"),
        pytest.param("\u00a0978\u00a02070368228\u00a0", FOLIO, "isbn", None, id="nbsp"),
        pytest.param("\u202f978\u202f2070368228", FOLIO, "isbn", None, id="narrow-nbsp"),
        pytest.param("ISBN 978-2-07-036822-8", FOLIO, "isbn", None, id="isbn-prefix"),
        pytest.param("isbn:9782070368228", FOLIO, "isbn", None, id="isbn-colon-lowercase"),
        pytest.param("ISBN-13: 978-2-07-036822-8", FOLIO, "isbn", None, id="isbn13-prefix"),
        pytest.param("EAN 9782070368228", FOLIO, "isbn", None, id="ean-prefix"),
        pytest.param("Ean: 3760099990008", "3760099990008", "gtin", None, id="ean-colon"),
        pytest.param('="9782070368228"', FOLIO, "isbn", None, id="excel-formula-wrapper"),
        pytest.param("'9782070368228", FOLIO, "isbn", None, id="leading-apostrophe"),
        pytest.param("9782070368228.0", FOLIO, "isbn", None, id="float-suffix"),
        pytest.param(9782070368228, FOLIO, "isbn", None, id="int-from-openpyxl"),
        pytest.param("9791035200121", "9791035200121", "isbn", None, id="isbn-979-10-france"),
        pytest.param("0-201-63361-2", "9780201633610", "isbn", "isbn10_converted",
                     id="isbn10-hyphenated"),
        pytest.param("080442957X", "9780804429573", "isbn", "isbn10_converted",
                     id="isbn10-check-x"),
        pytest.param("2-07-036822-x", FOLIO, "isbn", "isbn10_converted",
                     id="isbn10-lowercase-x"),
        pytest.param("ISBN-10: 2-07-036822-X", FOLIO, "isbn", "isbn10_converted",
                     id="isbn10-prefix"),
        pytest.param("ISBN1034567896", "9781034567899", "isbn", "isbn10_converted",
                     id="isbn10-starting-with-10-after-prefix"),
        pytest.param("201633612.0", "9780201633610", "isbn", "leading_zero_restored",
                     id="isbn10-lost-leading-zero-float-text"),
        pytest.param(306406152, "9780306406157", "isbn", "leading_zero_restored",
                     id="isbn10-lost-leading-zero-int"),
        pytest.param("036000291452", "0036000291452", "gtin", "leading_zero_restored",
                     id="upc-lost-leading-zero"),
        pytest.param("978207036822890000", FOLIO, "isbn", "addon_removed", id="addon-5-digits"),
        pytest.param("978207036822812", FOLIO, "isbn", "addon_removed", id="addon-2-digits"),
        pytest.param("9790600123452", "9790600123452", "ismn", None, id="ismn"),
        pytest.param("3760099990008", "3760099990008", "gtin", None, id="gtin-stationery"),
        pytest.param("4006381333931", "4006381333931", "gtin", None, id="gtin-germany"),
        pytest.param("2000000012346", "2000000012346", "internal", None, id="in-store-code"),
        # ISMN-10: M, then 9 digits; M-3217-6546-7 is 979-0-3217-6546-7, check digit unchanged
        # (M counts 3 x 3 = 9; 9, 7, 9, 0 count 9 + 21 + 9 + 0 = 39).
        pytest.param("M-3217-6546-7", "9790321765467", "ismn", "ismn10_converted", id="ismn10"),
        pytest.param("m 3217 6546 7", "9790321765467", "ismn", "ismn10_converted",
                     id="ismn10-lowercase-spaces"),
        pytest.param("ISMN M-3217-6546-7", "9790321765467", "ismn", "ismn10_converted",
                     id="ismn10-prefix"),
        pytest.param("ISBN-978-2-07-036822-8", FOLIO, "isbn", None, id="isbn-hyphen-prefix"),
        pytest.param("ISBN\u2013978-2-07-036822-8", FOLIO, "isbn", None,
                     id="isbn-en-dash-prefix"),
        pytest.param("978\u20132\u201307\u2013036822\u20138", FOLIO, "isbn", None, id="en-dashes"),
        pytest.param("978\u20112\u201107\u2011036822\u20118", FOLIO, "isbn", None,
                     id="non-breaking-hyphens"),
        pytest.param("978\u22122\u221207\u2212036822\u22128", FOLIO, "isbn", None,
                     id="minus-signs"),
        pytest.param("2\u201007\u2010036822\u2010X", FOLIO, "isbn", "isbn10_converted",
                     id="isbn10-unicode-hyphens"),
    ],
)
def test_normalize_code(raw: str | int, code: str, kind: str, repair: str | None) -> None:
    assert normalize_code(raw) == Code(code=code, kind=kind, repair=repair)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param("9.78207E+12", "scientific_notation", id="excel-scientific"),
        pytest.param("9,78207E+12", "scientific_notation", id="excel-scientific-french"),
        pytest.param("9.78207e12", "scientific_notation", id="scientific-lowercase"),
        pytest.param("  9,78207E+12 ", "scientific_notation", id="scientific-padded"),
        pytest.param('="9.78207E+12"', "scientific_notation", id="scientific-in-formula"),
        pytest.param("1E+12", "scientific_notation", id="scientific-no-decimals"),
        pytest.param("", "empty_code", id="empty"),
        pytest.param(" \u00a0 ", "empty_code", id="blank"),
        pytest.param("ISBN:", "empty_code", id="prefix-only"),
        pytest.param('=""', "empty_code", id="empty-formula"),
        pytest.param("978207036822A", "invalid_characters", id="letter"),
        pytest.param("978.2.07.036822.8", "invalid_characters", id="dots"),
        pytest.param("978207036822X", "invalid_characters", id="x-in-isbn13"),
        pytest.param("X201633612", "invalid_characters", id="x-not-final"),
        pytest.param("-9782070368228", "invalid_characters", id="leading-minus"),
        pytest.param(-9782070368228, "invalid_characters", id="negative-int"),
        pytest.param("Le Petit Prince", "invalid_characters", id="title"),
        pytest.param("0201633613", "invalid_check_digit", id="isbn10-bad-check"),
        pytest.param("2070368228", "invalid_check_digit", id="isbn10-bad-check-not-x"),
        pytest.param("9782070368229", "invalid_check_digit", id="isbn13-bad-check"),
        pytest.param("9782070000000", "invalid_check_digit", id="rounded-by-spreadsheet"),
        pytest.param(str(9.78207e12), "invalid_check_digit", id="str-of-float"),
        pytest.param("978207036822990000", "invalid_check_digit", id="addon-bad-check"),
        pytest.param("201633613", "invalid_length", id="9-digits-no-valid-isbn10"),
        pytest.param("201633612", "unproven_leading_zero", id="9-digits-text-no-evidence"),
        pytest.param("0000000000", "placeholder_code", id="placeholder-10-zeros"),
        pytest.param("0000000000000", "placeholder_code", id="placeholder-13-zeros"),
        pytest.param("000-0-00-000000-0", "placeholder_code", id="placeholder-hyphenated"),
        pytest.param(0, "placeholder_code", id="placeholder-int-zero"),
        pytest.param("M-3217-6546-8", "invalid_check_digit", id="ismn10-bad-check"),
        pytest.param("\u22129782070368228", "invalid_characters", id="leading-minus-sign"),
        pytest.param("036000291453", "invalid_length", id="12-digits-no-valid-ean"),
        pytest.param("1984", "invalid_length", id="too-short"),
        pytest.param("97820703682281", "invalid_length", id="14-digits"),
        pytest.param("9782070368228123", "invalid_length", id="16-digits"),
    ],
)
def test_normalize_code_rejects(raw: str | int, reason: str) -> None:
    with pytest.raises(CodeError) as caught:
        normalize_code(raw)
    assert caught.value.reason == reason
    assert caught.value.raw == raw


def test_messages_speak_to_the_bookseller() -> None:
    with pytest.raises(CodeError) as scientific:
        normalize_code("9,78207E+12")
    assert "chiffres sont perdus" in str(scientific.value)
    assert "format Texte" in str(scientific.value)

    with pytest.raises(CodeError) as check:
        normalize_code("9782070000000")
    assert "clé de contrôle" in str(check.value)
    assert "tableur" in str(check.value)

    with pytest.raises(CodeError) as length:
        normalize_code("97820703682")
    assert "11 caractères" in str(length.value)


def test_a_lost_zero_is_restored_only_with_evidence() -> None:
    """Text `201633612` may be `0201633612` (zero lost) or a 10-digit code missing another digit:
    only a number, or the caller's evidence from the whole file, allows the repair."""
    repaired = Code("9780201633610", "isbn", "leading_zero_restored")
    assert normalize_code("201633612", zero_lost=True) == repaired
    assert normalize_code(201633612) == repaired
    with pytest.raises(CodeError) as caught:
        normalize_code("201633612")
    assert "0201633612" in str(caught.value) and "Texte" in str(caught.value)
    assert lost_zero_candidate("201633612") is True
    assert lost_zero_candidate("201633613") is False
    assert lost_zero_candidate("9782070368228") is None
    with pytest.raises(CodeError) as bad:  # evidence never fixes a bad check
        normalize_code("201633613", zero_lost=True)
    assert bad.value.reason == "invalid_length"


def test_codes_are_thirteen_digits_of_a_known_kind() -> None:
    code = normalize_code("0-201-63361-2")
    assert len(code.code) == 13 and code.code.isdigit()
    assert code.kind in KINDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("978-2-07-036822-8", True, id="hyphenated-isbn13"),
        pytest.param("2070368228", True, id="isbn10-digits"),
        pytest.param("2-07-036822-X", True, id="isbn10-with-x"),
        pytest.param("9782070368229", True, id="invalid-but-meant-as-code"),
        pytest.param("ISBN 978 2 07", True, id="explicit-prefix-short"),
        pytest.param("9,78207E+12", True, id="pasted-scientific"),
        pytest.param("978207036822890000", True, id="with-addon"),
        pytest.param("M-3217-6546-7", True, id="ismn10"),
        pytest.param("978\u20132\u201307\u2013036822\u20138", True, id="en-dashes"),
        pytest.param("Mozart 1756", False, id="word-starting-with-m"),
        pytest.param("Le Petit Prince", False, id="title"),
        pytest.param("st exupery", False, id="author"),
        pytest.param("1984", False, id="numeric-title"),
        pytest.param("2001 odyssée", False, id="title-with-number"),
        pytest.param("12345678", False, id="eight-digits"),
        pytest.param("9782070368228123456", False, id="nineteen-digits"),
        pytest.param("ISBN", False, id="prefix-alone"),
        pytest.param("", False, id="empty"),
    ],
)
def test_looks_like_isbn(text: str, expected: bool) -> None:
    assert looks_like_isbn(text) is expected


def test_import_does_not_load_flask() -> None:
    script = (
        "import sys, app.isbn; sys.exit('flask' in sys.modules or 'sqlalchemy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0
