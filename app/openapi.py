"""The OpenAPI 3.1 description of `/api/v1`, written by hand and served at /api/v1/openapi.json.

Hand-written rather than generated so that it says what the API promises, not what the code
happens to do; tests/test_openapi_contract.py fuzzes the app against it to keep both honest.
Schemas are JSON Schema 2020-12, which OpenAPI 3.1 uses as is.
"""
from __future__ import annotations

from typing import Any

from app.models.import_run import RUN_STATUSES
from app.reservations.lifecycle import STATES
from app.reservations.reserve import CONTACT_LENGTHS
from app.services.availability import DEFAULT_RADIUS_KM, MAX_LIMIT, MAX_RADIUS_KM
from app.services.directory import MAX_PAGE

PROBLEM = "application/problem+json"
Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object whose members are all present unless listed in `optional`."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


def _ok(schema_name: str, description: str) -> Schema:
    """A cacheable JSON answer, readable from any site."""
    return {"description": description,
            "headers": {"Access-Control-Allow-Origin": {"$ref": "#/components/headers/Cors"},
                        "Cache-Control": {"$ref": "#/components/headers/CacheControl"}},
            "content": {"application/json": {"schema": _ref(schema_name)}}}


def _problem(description: str) -> Schema:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


INT = {"type": "integer"}
NUMBER = {"type": "number"}
STRING = {"type": "string"}
URL = {"type": "string", "format": "uri"}
DATETIME = {"type": "string", "format": "date-time"}

# lat and lon go together: one parameter whose members are sent as `lat=..&lon=..&near=..`
# (form style, exploded), so that the schema can say so (`dependentRequired`).
PLACE_PARAMETER = {
    "name": "place", "in": "query", "style": "form", "explode": True,
    "description": ("Where the reader is: `lat` and `lon` (WGS 84), both or neither, which win "
                    "over `near`, a place in words (town, postcode or address in France or "
                    "Belgium). An origin that is not found answers 422 `place_not_found`."),
    "schema": {
        "type": "object",
        "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "near": STRING,
        },
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
    },
}
# What the API takes for a book's code: an ISBN-13 (978/979), with or without single spaces or
# hyphens between digits, possibly followed by a 2 or 5 digit price add-on; or an ISBN-10.
# The check digit is checked too, which a pattern cannot say (422 `invalid_isbn`).
ISBN_PATTERN = (r"^(?:97[89](?:[ -]?[0-9]){10}(?:[ -]?[0-9]{2}|[ -]?[0-9]{5})?"
                r"|[0-9](?:[ -]?[0-9]){8}[ -]?[0-9Xx])$")
PLACE_ERRORS = ("`incomplete_coordinates`, `invalid_latitude`, `latitude_out_of_range`, "
                "`invalid_longitude`, `longitude_out_of_range`, `place_not_found`, "
                "`ambiguous_place` (with `candidates`)")


NETWORK_PARAMETER = _query(
    "network", {"type": "string"},
    "Only the shops of this network (its slug, as in the site's `/reseaux/<slug>`); a shop "
    "may belong to several networks. An unknown network answers 404 `unknown_network`.")
UNKNOWN_NETWORK = _problem("`unknown_network`: no network has this slug.")


def _limit(default: int) -> Schema:
    return _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                            "default": default}, "How many results at most (`invalid_limit`).")


# Null when the shop gave no hours that can be read; `closes_at` is null when closed and
# `next_opening` when open.
HOURS = {"open_now": _nullable({"type": "boolean"}), "closes_at": _nullable(DATETIME),
         "next_opening": _nullable(DATETIME)}
SHOP_BASE = {"slug": STRING, "name": STRING, "address": STRING, "postcode": STRING,
             "city": STRING, "lat": NUMBER, "lon": NUMBER, "distance_m": _nullable(INT)}

SCHEMAS: dict[str, Schema] = {
    "Problem": {
        **_object({"type": STRING, "title": STRING, "status": INT, "detail": STRING,
                   "code": STRING, "reason": STRING,
                   "candidates": {"type": "array", "items": STRING}},
                  optional=("detail", "code", "reason", "candidates")),
        "description": "RFC 9457 problem details. `code` (also the `title`) says what is wrong; "
                       "`detail` says it in the reader's language; `reason` refines "
                       "`invalid_isbn`; `candidates` lists the places an ambiguous one may be.",
    },
    "Origin": _object({"lat": NUMBER, "lon": NUMBER, "label": _nullable(STRING)}),
    "Edition": _object({"isbn13": STRING, "title": STRING, "authors": STRING,
                        "publisher": STRING}),
    "Holder": _object({**SHOP_BASE, "available": {"type": "integer", "minimum": 1},
                       "stock_as_of": _nullable(DATETIME), "stock_stale": {"type": "boolean"},
                       **HOURS,
                       "links": _object({"shop": URL, "book": URL})}),
    "Availability": _object({
        "edition": _nullable(_ref("Edition")), "origin": _nullable(_ref("Origin")),
        "radius_km": _nullable(NUMBER), "nearby_count": _nullable(INT),
        "beyond_radius": {"type": "boolean"},
        "shops": {"type": "array", "items": _ref("Holder")},
    }),
    "EditionHit": _object({"isbn13": STRING, "title": STRING, "authors": STRING,
                           "publisher": STRING,
                           "shops_with_copy": {"type": "integer", "minimum": 0},
                           "nearest_m": _nullable(INT), "links": _object({"book": URL})}),
    "EditionSearch": _object({
        "query": STRING, "origin": _nullable(_ref("Origin")),
        "corrections": {"type": "object", "additionalProperties": STRING},
        "unknown": {"type": "array", "items": STRING},
        "editions": {"type": "array", "items": _ref("EditionHit")},
    }),
    "Shop": _object({**SHOP_BASE, "country": STRING, "phone": STRING, "website": STRING,
                     "opening_hours": STRING, **HOURS, "links": _object({"shop": URL})}),
    "ShopList": {
        **_object({"origin": _nullable(_ref("Origin")),
                   "page": {"type": "integer", "minimum": 1},
                   "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                   "total": {"type": "integer", "minimum": 0},
                   "shops": {"type": "array", "items": _ref("Shop")},
                   "links": _object({"next": _nullable(URL), "prev": _nullable(URL)})}),
        "description": "One page of shops. `total` counts every active shop (of the network, "
                       "given one); `links.next` and "
                       "`links.prev` are the neighbouring pages of the same request, null at "
                       "either end (`prev` of a page past the end is the last page).",
    },
    "ImportReport": _object({
        "run_id": INT,
        "status": {"enum": list(RUN_STATUSES)},
        "format": _nullable(STRING), "lines_read": INT, "accepted": INT, "rejected_lines": INT,
        "added": INT, "changed": INT, "zeroed": INT, "unchanged": INT,
        "gate": _nullable(STRING), "gate_message": _nullable(STRING),
        "exported_at": _nullable(DATETIME),
        "interrupted_runs": {"type": "array", "items": INT},
        # How a delimited or spreadsheet file's header was read (docs/formats.md); null for
        # other formats and headerless files.
        "column_guess": _nullable({"type": "object"}),
        "rejections": {"type": "array", "items": _object({
            "line": INT, "field": STRING, "value": STRING, "reason": STRING, "message": STRING})},
    }),
}

AVAILABILITY = {
    "operationId": "availability",
    "summary": "The bookshops with a copy of a book on the shelf, nearest first",
    "description": (
        "`available` is what the shop's last stock file says, minus the copies readers hold. "
        "`shops` lists the holders within `radius_km` of the origin; when none is within it, "
        "the nearest ones beyond it (`beyond_radius` is then true). Without an origin, every "
        "holder by town, without distances."),
    "parameters": [
        _query("isbn", {"type": "string", "pattern": ISBN_PATTERN},
               "ISBN-13 or ISBN-10, with or without hyphens or spaces; an ISBN-13 may carry "
               "its price add-on.",
               required=True),
        PLACE_PARAMETER, _limit(10),
        _query("radius_km", {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM,
                             "default": DEFAULT_RADIUS_KM},
               "What counts as nearby, in km (`invalid_radius`)."),
        NETWORK_PARAMETER,
    ],
    "responses": {
        "200": _ok("Availability", "The edition (null if not in the catalogue) and its holders."),
        "404": UNKNOWN_NETWORK,
        "422": _problem("`missing_isbn`, `invalid_isbn` (with `reason`), `invalid_limit`, "
                        f"`invalid_radius`, {PLACE_ERRORS}."),
    },
}

EDITIONS = {
    "operationId": "editions",
    "summary": "Editions matching words of a title, an author or a publisher, best first",
    "description": (
        "Typos and missing accents are tolerated; `corrections` says which words were read as "
        "which. An ISBN in `q` answers that edition alone, or nothing if it is not in the "
        "catalogue. `shops_with_copy` counts the shops with a copy; `nearest_m` is the "
        "distance to the nearest of them, given an origin. With `network`, words match only "
        "the editions on that network's shelves, and only its shops are counted."),
    "parameters": [
        _query("q", {"type": "string", "minLength": 1}, "What the reader typed.", required=True),
        PLACE_PARAMETER, _limit(20), NETWORK_PARAMETER,
    ],
    "responses": {
        "200": _ok("EditionSearch", "The editions found, possibly none."),
        "404": UNKNOWN_NETWORK,
        "422": _problem(f"`missing_query`, `invalid_isbn` (with `reason`), `invalid_limit`, "
                        f"{PLACE_ERRORS}."),
    },
}

SHOPS = {
    "operationId": "shops",
    "summary": "The network's bookshops with their opening hours, a page at a time",
    "description": ("Active shops (of one network with `network`), `limit` a page: nearest "
                    "first with distances given an origin, otherwise by town and name. Follow "
                    "`links.next` to read them all. `opening_hours` is an OpenStreetMap "
                    "opening_hours expression; `links.shop` is the shop's page on the site."),
    "parameters": [
        PLACE_PARAMETER, _limit(10),
        _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
               "Which page, from 1 (`invalid_page`); a page past the end is empty."),
        NETWORK_PARAMETER,
    ],
    "responses": {
        "200": _ok("ShopList", "One page of shops."),
        "404": UNKNOWN_NETWORK,
        "422": _problem(f"`invalid_limit`, `invalid_page`, {PLACE_ERRORS}."),
    },
}

PUSH_STOCK = {
    "operationId": "pushStock",
    "summary": "A shop's till pushes its full stock file",
    "description": ("The body is the file itself (CSV, spreadsheet, ONIX or JSON). It replaces "
                    "the shop's stock unless a safety gate refuses it (422 with the report)."),
    "security": [{"shopToken": []}],
    "parameters": [
        {"name": "slug", "in": "path", "required": True, "schema": STRING},
        _query("force", {"enum": ["1"]}, "Apply even a file identical to the last one."),
        _query("filename", STRING, "The file's name, which helps tell its format."),
        {"name": "X-Filename", "in": "header", "required": False, "schema": STRING},
    ],
    "requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "text/csv": {"schema": STRING},
    }},
    "responses": {
        "200": {"description": "Applied, or the same file as last time.",
                "content": {"application/json": {"schema": _ref("ImportReport")}}},
        "401": _problem("`invalid_token`: missing, wrong or revoked token for this shop."),
        "413": _problem("`file_too_large`."),
        "422": {"description": "Refused or failed: the previous stock is kept.",
                "content": {"application/json": {"schema": _ref("ImportReport")},
                            PROBLEM: {"schema": _ref("Problem")}}},
    },
}


RESERVATION_SCHEMA = _object({
    "code": STRING, "state": {"enum": list(STATES)}, "isbn13": STRING, "title": STRING,
    # Six characters the reader reads aloud at the counter; null for older reservations.
    "pickup_code": _nullable(STRING),
    "shop": _object({"name": STRING, "address": STRING}),
    "deadline": DATETIME, "created_at": DATETIME,
})
ALTERNATIVE = _object({"slug": STRING, "name": STRING, "address": STRING, "city": STRING,
                       "available": INT, "distance_m": _nullable(INT)})
NO_COPY_LEFT = {
    "description": "`no_copy_left`: the last copy went to someone else; `alternatives` lists "
                   "the next-nearest shops that still have one.",
    "content": {PROBLEM: {"schema": {"allOf": [_ref("Problem"), _object(
        {"alternatives": {"type": "array", "items": ALTERNATIVE}})]}}},
}
CODE_PARAMETER = {"name": "code", "in": "path", "required": True, "schema": STRING,
                  "description": "The reservation code given to the reader."}


def _reservation(description: str) -> Schema:
    return {"description": description,
            "content": {"application/json": {"schema": RESERVATION_SCHEMA}}}


# Text with something in it besides spaces; an optional field may also be empty or null, which
# stands for "not given".
# Space as the server's str.strip() counts it, spelled out: ECMA's \s (schemathesis', browsers')
# misses \x1c-\x1f and \x85, which Python strips, and adds \ufeff, which it keeps: a name of one
# "\x1d" was a name to the document and none to the server.
_SPACES = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
FILLED = {"type": "string", "pattern": rf"[^{_SPACES}]"}
_BLANK = rf"^[{_SPACES}]*$"
OPTIONAL_CONTACT = {
    "email": {"type": ["string", "null"], "pattern": _BLANK + r"|^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$",
              "description": "An email address as mail servers accept them (RFC 5321/5322, "
                             "internationalised addresses too; reserved domains such as "
                             "`.test` are refused with `invalid_email`)."},
    "phone": {"type": ["string", "null"], "pattern": _BLANK + r"|^(?:[^0-9]*[0-9]){6}",
              "description": "At least 6 digits."},
}
RESERVE_BODY: Schema = {
    **_object({
        "shop": FILLED, "isbn": {"type": "string", "pattern": ISBN_PATTERN},
        "name": {**FILLED, "maxLength": CONTACT_LENGTHS["name"]},
        **{field: {**schema, "maxLength": CONTACT_LENGTHS[field]}
           for field, schema in OPTIONAL_CONTACT.items()},
        "locale": {"enum": ["fr", "en", None]},
        "idempotency_key": {"type": ["string", "null"]},
    }, optional=("email", "phone", "locale", "idempotency_key")),
    # An email address or a phone number, at least.
    "anyOf": [{"required": [field], "properties": {field: FILLED}} for field in OPTIONAL_CONTACT],
}
RESERVE_EXAMPLE = {"shop": "librairie-des-halles", "isbn": "978-2-07-036002-4",
                   "name": "Camille Martin", "email": "camille@example.org"}

RESERVE = {
    "operationId": "reserve",
    "summary": "Hold one copy for two hours of the shop's opening time",
    "description": ("A retried request with the same `Idempotency-Key` (header, or "
                    "`idempotency_key` in the body) and the same fields answers the same "
                    "reservation with 200. A key belongs to its requester (the contact given): "
                    "another requester's request with the same key is a new request, and the "
                    "same requester reusing a key for a different request gets 409 "
                    "`idempotency_key_reused`."),
    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": STRING}],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": RESERVE_BODY, "example": RESERVE_EXAMPLE}}},
    "responses": {
        "200": _reservation("The same request again: the reservation it made."),
        "201": {**_reservation("Held."), "links": {
            "read": {"operationId": "readReservation",
                     "parameters": {"code": "$response.body#/code"}},
            "cancel": {"operationId": "cancelReservation",
                       "parameters": {"code": "$response.body#/code"}}}},
        "404": _problem("`unknown_shop`."),
        "409": NO_COPY_LEFT,
        "422": _problem("`invalid_body`, `missing_field`, `invalid_isbn`, `missing_name`, "
                        "`missing_contact`, `invalid_email`, `invalid_phone`, `too_long`, "
                        "`invalid_characters` (a NUL byte or a lone surrogate)."),
        "429": _problem("`too_many_holds` (3 active per email or phone), or the rate limit."),
    },
}
READ_RESERVATION = {
    "operationId": "readReservation", "summary": "A reservation's state and deadline",
    "parameters": [CODE_PARAMETER],
    "responses": {"200": _reservation("The reservation."),
                  "404": _problem("`unknown_reservation`."),
                  "410": _problem("`reservation_cancelled`: cancelled (DELETE, or by the "
                                  "shop); the code holds nothing any more."),
                  "429": _problem("Rate limit on code look-ups.")},
}
CANCEL_RESERVATION = {
    "operationId": "cancelReservation", "summary": "The reader cancels a reservation",
    "parameters": [CODE_PARAMETER],
    "responses": {"200": _reservation("Cancelled."),
                  "404": _problem("`unknown_reservation`."),
                  "409": _problem("`expired` (past its deadline), `already_collected`, "
                                  "`already_cancelled`, ...: too late."),
                  "429": _problem("Rate limit on code look-ups.")},
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rayons API", "version": "1.0.0",
            "description": ("Which independent bookshop near a reader has a book on its shelf. "
                            "GET answers may be read from any site (CORS) and cached for a "
                            "minute. Errors are RFC 9457 problem documents whose `detail` "
                            "is in the request's language: `lang=en` or `lang=fr`, else the "
                            "Accept-Language header, else French. Text "
                            "holding a NUL byte or a lone surrogate is refused anywhere "
                            "(422 `invalid_characters`)."),
            "license": {"name": "AGPL-3.0-or-later",
                        "identifier": "AGPL-3.0-or-later"},
        },
        "paths": {
            "/api/v1/availability": {"get": AVAILABILITY},
            "/api/v1/editions": {"get": EDITIONS},
            "/api/v1/shops": {"get": SHOPS},
            "/api/v1/shops/{slug}/stock": {"put": PUSH_STOCK},
            "/api/v1/reservations": {"post": RESERVE},
            "/api/v1/reservations/{code}": {"get": READ_RESERVATION,
                                            "delete": CANCEL_RESERVATION},
        },
        "components": {
            "schemas": SCHEMAS,
            "headers": {
                "Cors": {"required": True, "schema": {"const": "*"}},
                "CacheControl": {"required": True, "schema": STRING},
            },
            "securitySchemes": {"shopToken": {
                "type": "http", "scheme": "bearer",
                "description": "The shop's push token (`flask stock token <slug>`)."}},
        },
    }
