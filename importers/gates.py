"""The sanity gates a staged file must pass before it may replace a shop's stock.

Each gate protects the map from a broken export: a file cut short, a file full of garbage, or a
file that suddenly lists far fewer books than last night (a till exporting one shelf only).
"""
from __future__ import annotations

from dataclasses import dataclass

from app.models import ImportRun

MAX_INVALID_SHARE = 0.20
# Below this many invalid lines the share gate stays open: one typo in a four-line file is a
# typo, not a broken export.
MIN_INVALID_LINES_FOR_GATE = 5
MIN_SHARE_OF_PREVIOUS = 0.5
# What a refusal's reader can do about it depends on where they read it: the stored message says
# what happened, each edge adds its own way past the gate (the web page shows a button instead).
# (`several_locations` comes from the ONIX parser: which location is the shop's own?)
CLI_ADVICE = {"shrunk": "si c'est voulu, relancez avec --force après vérification",
              "several_locations": "indiquez le code de lieu (LocationIdentifier) de cette "
                                   "librairie avec --location-code"}
PUSH_ADVICE = {"shrunk": "si c'est voulu, renvoyez-le avec ?force=1 après vérification",
               "several_locations": "le code de lieu (LocationIdentifier) de cette librairie "
                                    "s'indique sur la page d'import du stock, ou dans la "
                                    "configuration du flux"}


@dataclass(frozen=True)
class Verdict:
    gate: str
    message: str


def check(run: ImportRun, previous: ImportRun | None, *, force: bool) -> Verdict | None:
    """None when the staged file may be applied; else the first gate it fails."""
    if run.lines_read == 0:
        return Verdict("empty_file", "le fichier ne contient aucune ligne de stock")
    if run.accepted == 0:
        return Verdict("no_valid_line", "aucune ligne valide dans le fichier")
    invalid_share = run.rejected_lines / run.lines_read
    if invalid_share > MAX_INVALID_SHARE and run.rejected_lines >= MIN_INVALID_LINES_FOR_GATE:
        return Verdict(
            "too_many_invalid",
            f"{run.rejected_lines} lignes invalides sur {run.lines_read} "
            f"({invalid_share:.0%}, plus de {MAX_INVALID_SHARE:.0%}) : "
            "le fichier semble endommagé, le stock précédent est conservé",
        )
    if (previous is not None and not force
            and run.accepted < previous.accepted * MIN_SHARE_OF_PREVIOUS):
        return Verdict(
            "shrunk",
            f"{run.accepted} lignes contre {previous.accepted} au dernier import : moins de la "
            "moitié. Le stock précédent est conservé",
        )
    return None
