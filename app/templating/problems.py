"""Why a code, a place or a request was not understood, worded in the reader's language.

`app.isbn` and `geo.gazetteer` explain in French, the language of the import reports shops read;
services raise errors in plain English for logs and tests; pages and the API's problem details
speak the reader's language, so they word the same reasons through the translation catalogue,
from the reason code (or the HTTP status) and what the reader typed.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for
from flask_babel import gettext, lazy_gettext

from app.isbn import CodeError
from app.services.places import Located
from app.templating.words import reservation_state_label
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


# The errors a reader or an API client meets, by their code, for those that services raise in
# English. Codes whose message names a field or a limit (too_long, invalid_characters,
# invalid_body) keep it: it says which one; so do those a view words itself in the reader's
# language, naming what was asked (unknown_network, unknown_shop: app/views/scope.py).
_BY_CODE = {
    "unknown_reservation": lazy_gettext("No reservation has this code. Check the link in your "
                                        "confirmation, or ask the bookshop."),
    "reservation_cancelled": lazy_gettext("This reservation was cancelled."),
    "missing_name": lazy_gettext("Your name is required."),
    "missing_contact": lazy_gettext("An email address or a phone number is required."),
    "invalid_email": lazy_gettext("This email address is not valid."),
    "invalid_phone": lazy_gettext("This phone number is not valid."),
    "idempotency_key_reused": lazy_gettext("This key was already used for another request."),
    "expired": lazy_gettext("This hold has expired."),
    "not_allowed": lazy_gettext("This change is not allowed."),
    "no_copy_left": lazy_gettext("No copy is left in this bookshop."),
    "missing_field": lazy_gettext("The shop and the ISBN are required."),
}
_BY_STATUS = {
    400: lazy_gettext("This request could not be understood."),
    401: lazy_gettext("Sign in first."),
    403: lazy_gettext("You may not open this page."),
    404: lazy_gettext("This page does not exist, or no longer does. Check the address, or start "
                      "again from the bookshops."),
    405: lazy_gettext("This address does not take this kind of request."),
    413: lazy_gettext("What was sent is too large."),
    429: lazy_gettext("Too many requests in a short time: wait a moment, then try again."),
    500: lazy_gettext("Something went wrong on our side. Try again in a moment."),
    503: lazy_gettext("The service is unavailable for a moment. Try again shortly."),
}


def error_message(*, code: str | None, status: int, fallback: str) -> str:
    """The reader's words for an error: by its code, else by its status when it is one of
    HTTP's own (`code` None), else the message it was raised with."""
    if code is not None and code.startswith("already_"):
        return gettext("This reservation is already: %(state)s.",
                       state=reservation_state_label(code.removeprefix("already_")))
    if code is not None:
        return str(_BY_CODE.get(code, fallback))
    return str(_BY_STATUS.get(status, fallback))


def init_app(app: Flask) -> None:
    app.add_template_global(picked_place_url, "picked_place_url")
    app.add_template_global(code_problem, "code_problem")
    app.add_template_global(place_problem, "place_problem")
