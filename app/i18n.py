"""French by default, English when the reader picks it (`?lang=en`, remembered in the session,
and in a cookie of its own that outlives it: a phone's browser drops session cookies when it
restarts, and the page that then says "your form was not sent" must still speak the reader's
language).

The browser's Accept-Language is deliberately not used for pages: the network's shops and readers
are French-speaking, and a reader with an English browser in Bordeaux still expects the French
site. The API is another matter: a client program states its language per request (`lang`, then
Accept-Language), and nothing is remembered for it, as API clients keep no session.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request, session
from flask_babel import Babel

# The reader's language choice: functional, set only when they pick a language.
LANG_COOKIE = "rayons_lang"
LANG_COOKIE_AGE_S = 365 * 24 * 3600


def select_locale() -> str:
    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    api = request.path.startswith("/api/")
    asked = request.args.get("lang")
    if asked is not None and asked in languages:
        if not api:
            session["lang"] = g.lang_chosen = asked
        return asked
    if api:
        return request.accept_languages.best_match(languages) or default
    for chosen in (session.get("lang"), request.cookies.get(LANG_COOKIE)):
        if isinstance(chosen, str) and chosen in languages:
            return chosen
    return default


def _remember_choice(response: Response) -> Response:
    chosen = g.get("lang_chosen")
    if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_AGE_S, httponly=True,
                            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def language_url(language: str) -> str:
    """This page in another language, as a link relative to it: the same arguments (a
    directory page, a network, a place) with `lang` replaced."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*args, ("lang", language)])


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.add_template_global(language_url, "language_url")
    app.after_request(_remember_choice)
