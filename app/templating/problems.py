"""Why a code or a place was not understood, worded in the reader's language.

`app.isbn` and `geo.gazetteer` explain in French, the language of the import reports shops read;
pages and the API's problem details speak the reader's language, so they word the same reasons
through the translation catalogue, from the reason code and what the reader typed.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from flask_babel import gettext

from app.isbn import CodeError
from app.services.places import Located
from geo.gazetteer import Place


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
    return str(error)


def place_problem(located: Located) -> str:
    """Why the typed place gave no position: unknown, or shared by several places."""
    match located.error_code:
        case "ambiguous_place" if located.remote is not None:
            return gettext("%(place)s is far from every bookshop of the network: which place "
                           "did you mean?", place=located.remote.label)
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


def picked_place_url(place: Place) -> str:
    """This page again from one of the candidates offered: its label for the search box and
    its gazetteer id, so the place keeps its identity (no second guess from the words); every
    other argument (the query, a network, ...) stays."""
    args: dict[str, Any] = {key: value for key, value in request.args.items()
                            if key not in ("lieu", "lieu_id", "lat", "lon", "page")}
    return url_for(request.endpoint or "public.shop_directory", **(request.view_args or {}),
                   **args, lieu=place.label, lieu_id=place.ident)


def init_app(app: Flask) -> None:
    app.add_template_global(picked_place_url, "picked_place_url")
    app.add_template_global(code_problem, "code_problem")
    app.add_template_global(place_problem, "place_problem")
