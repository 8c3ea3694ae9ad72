"""Why a code or a place was not understood, worded in the reader's language.

`app.isbn` and `geo.gazetteer` explain in French, the language of the import reports shops read;
pages and the API's problem details speak the reader's language, so they word the same reasons
through the translation catalogue, from the reason code and what the reader typed.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext

from app.isbn import CodeError
from app.services.places import Located


def code_problem(error: CodeError) -> str:
    """What is wrong with a code typed in a search box, and how to fix it."""
    code = str(error.raw).strip()
    match error.reason:
        case "scientific_notation":
            return gettext("“%(code)s” is in scientific notation: the spreadsheet rounded it and "
                           "its last digits are lost. Type the code printed under the barcode.",
                           code=code)
        case "empty_code":
            return gettext("The code is empty.")
        case "invalid_characters":
            return gettext("“%(code)s” holds characters other than digits (only a 10-character "
                           "ISBN may end with X).", code=code)
        case "invalid_length":
            return gettext("“%(code)s” is neither 10 nor 13 characters long: an ISBN has 10 or "
                           "13, the barcode on the back cover 13.", code=code)
        case "invalid_check_digit":
            return gettext("The last character of “%(code)s” (the check digit) does not match "
                           "the others: one of them was probably mistyped.", code=code)
        case "unproven_leading_zero":
            return gettext("“%(code)s” has 9 digits: if it is a 10-character ISBN that lost its "
                           "leading 0, type the 0 too.", code=code)
        case "placeholder_code":
            return gettext("“%(code)s” is only zeros: a placeholder, not the code of a book.",
                           code=code)
    return str(error)


def place_problem(located: Located) -> str:
    """Why the typed place gave no position: unknown, or shared by several places."""
    match located.error_code:
        case "ambiguous_place" if located.shared_name:
            return gettext("Several places are called “%(name)s”: add the postcode.",
                           name=located.shared_name)
        case "ambiguous_place":
            return gettext("Several places match “%(place)s”: add the postcode.",
                           place=located.query)
        case "place_not_found":
            return gettext("Place not found: “%(place)s”. Try a town or a postcode.",
                           place=located.query)
    return located.error or ""


def init_app(app: Flask) -> None:
    app.add_template_global(code_problem, "code_problem")
    app.add_template_global(place_problem, "place_problem")
