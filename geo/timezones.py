"""The time zone a shop lives in, from its country and (for French overseas) its postcode.

Shops can override it; this only gives a sensible default so a spreadsheet need not carry it.
"""
from __future__ import annotations

COUNTRY_ZONES = {
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "LU": "Europe/Luxembourg",
    "CH": "Europe/Zurich",
    "MC": "Europe/Monaco",
    # Québec, where the network's Canadian shops are, follows Toronto's zone rules.
    "CA": "America/Toronto",
}

FRENCH_OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}

DEFAULT_ZONE = "Europe/Paris"


def default_timezone(country: str, postcode: str) -> str:
    if country == "FR" and postcode[:3] in FRENCH_OVERSEAS_ZONES:
        return FRENCH_OVERSEAS_ZONES[postcode[:3]]
    return COUNTRY_ZONES.get(country, DEFAULT_ZONE)
