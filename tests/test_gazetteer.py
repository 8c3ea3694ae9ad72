"""The offline gazetteer answers what readers type: towns, postcodes, addresses, typos."""

import math
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest

from geo.gazetteer import AmbiguousPlace, Place, PlaceNotFound, fold, place_by_id, resolve_place

PAU = (43.2951, -0.3708)
BAYONNE = (43.4929, -1.4748)
BORDEAUX = (44.8378, -0.5792)
PERIGUEUX = (45.1846, 0.7214)
SAINT_JEAN_DE_LUZ = (43.3881, -1.6631)
PARIS_11 = (48.8590, 2.3800)


def km(place: Place, expected: tuple[float, float]) -> float:
    """Great-circle distance between a resolved place and a reference point."""
    lat1, lon1, lat2, lon2 = map(math.radians, (place.lat, place.lon, *expected))
    a = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371 * math.asin(math.sqrt(a))


@pytest.mark.parametrize("text", ["Pau", "pau", "PAU", "  Pau "])
def test_town_name_any_case(text: str) -> None:
    place = resolve_place(text)
    assert (place.label, place.kind, place.postcode, place.country) == (
        "Pau (64000)", "commune", "64000", "FR")
    assert km(place, PAU) < 5


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        pytest.param("33000", "33000 Bordeaux", BORDEAUX, id="bordeaux"),
        pytest.param("64100", "64100 Bayonne", BAYONNE, id="bayonne"),
        pytest.param("64000", "64000 Pau", PAU, id="pau"),
    ],
)
def test_postcode_is_its_main_commune(text: str, label: str, expected: tuple[float, float]) -> None:
    place = resolve_place(text)
    assert (place.label, place.kind, place.postcode) == (label, "postcode", text)
    assert km(place, expected) < 5


@pytest.mark.parametrize("text", ["Perigueux", "périgueux", "PÉRIGUEUX"])
def test_accents_are_optional(text: str) -> None:
    place = resolve_place(text)
    assert place.label == "Périgueux (24000)"
    assert km(place, PERIGUEUX) < 5


@pytest.mark.parametrize("text", ["St-Jean-de-Luz", "saint jean de luz", "ST JEAN DE LUZ",
                                  "Saint-Jean-de-Luz", "st jean-de-luz"])
def test_saint_abbreviations_and_separators(text: str) -> None:
    place = resolve_place(text)
    assert place.label == "Saint-Jean-de-Luz (64500)"
    assert km(place, SAINT_JEAN_DE_LUZ) < 5


def test_fold() -> None:
    assert fold("St-Jean-de-Luz") == fold("saint jean de luz") == "saint jean de luz"
    assert fold("Chalon s/ Saône") == "chalon sur saone"
    assert fold("L'Haÿ-les-Roses") == "l hay les roses"
    assert fold("Œuilly") == "oeuilly"


def test_namesakes_without_a_clear_winner_are_ambiguous() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Sainte-Marie")
    assert str(caught.value) == (
        "Plusieurs lieux s'appellent « Sainte-Marie » : précisez le code postal.")
    assert caught.value.query == "Sainte-Marie"
    labels = [candidate.label for candidate in caught.value.candidates]
    assert 2 <= len(labels) <= 10
    assert labels[:2] == ["Sainte-Marie (97438, La Réunion)", "Sainte-Marie (97230, Martinique)"]
    assert "Sainte-Marie (35600, Ille-et-Vilaine)" in labels


def test_a_far_more_populous_namesake_wins() -> None:
    # Saint-Paul (La Réunion, ~105,000 inhabitants) dwarfs every metropolitan Saint-Paul.
    assert resolve_place("Saint-Paul").label == "Saint-Paul (97411)"
    assert resolve_place("Saint-Etienne").label == "Saint-Étienne (42000)"


def test_a_far_more_populous_longer_name_joins_the_namesakes() -> None:
    # Évry-Courcouronnes (~67,000 inhabitants) over the Yonne's Évry (~500).
    assert resolve_place("Evry").label == "Évry-Courcouronnes (91000)"
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Aix")
    assert str(caught.value).startswith("Plusieurs lieux correspondent à « Aix »")
    labels = [candidate.label for candidate in caught.value.candidates]
    assert labels[:2] == ["Aix-en-Provence (13080, Bouches-du-Rhône)",
                          "Aix-les-Bains (73100, Savoie)"]


def test_first_words_of_a_name() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Bagneres")
    assert {c.label for c in caught.value.candidates} == {
        "Bagnères-de-Bigorre (65200, Hautes-Pyrénées)",
        "Bagnères-de-Luchon (31110, Haute-Garonne)"}


@pytest.mark.parametrize("text", ["Xyzzy", "99999", "9999", "", "   ", "12 rue Imaginaire"])
def test_unknown_place(text: str) -> None:
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place(text)
    assert str(caught.value) == (
        f"Lieu introuvable : « {text.strip()} ». Essayez une ville ou un code postal.")


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        pytest.param("Bordaux", "Bordeaux (33000)", BORDEAUX, id="missing-letter"),
        pytest.param("Perigeux", "Périgueux (24000)", PERIGUEUX, id="missing-u"),
        pytest.param("Bayone", "Bayonne (64100)", BAYONNE, id="single-n"),
        pytest.param("Bordeuax", "Bordeaux (33000)", BORDEAUX, id="swapped-letters"),
    ],
)
def test_one_typo(text: str, label: str, expected: tuple[float, float]) -> None:
    place = resolve_place(text)
    assert (place.label, place.kind) == (label, "commune")
    assert km(place, expected) < 5


@pytest.mark.parametrize(
    ("text", "label", "postcode", "expected"),
    [
        pytest.param("12 rue des Carmes 64000 Pau", "Pau (64000)", "64000", PAU, id="full"),
        pytest.param("Pau, 64000", "Pau (64000)", "64000", PAU, id="town-comma-postcode"),
        pytest.param("Bordeaux 33800", "Bordeaux (33800)", "33800", BORDEAUX, id="town-postcode"),
        pytest.param("12 avenue de Paris, 64000", "Pau (64000)", "64000", PAU,
                     id="street-named-after-another-town"),
        pytest.param("3 place de la Comédie, Bordeaux", "Bordeaux (33000)", "33000", BORDEAUX,
                     id="no-postcode"),
        pytest.param("12 rue des Carmes Pau", "Pau (64000)", "64000", PAU, id="no-comma"),
        pytest.param("Pl. de la Comédie, Bordaux", "Bordeaux (33000)", "33000", BORDEAUX,
                     id="typo-in-town"),
        pytest.param("BP 123, 64000 Pau Cedex 9", "Pau (64000)", "64000", PAU, id="cedex"),
    ],
)
def test_address(text: str, label: str, postcode: str, expected: tuple[float, float]) -> None:
    place = resolve_place(text)
    assert (place.label, place.kind, place.postcode) == (label, "address", postcode)
    assert km(place, expected) < 5


def test_arrondissements() -> None:
    by_postcode = resolve_place("75011")
    assert (by_postcode.label, by_postcode.kind) == ("75011 Paris 11e Arrondissement", "postcode")
    assert km(by_postcode, PARIS_11) < 2
    assert resolve_place("Paris 75011").label == "Paris 11e Arrondissement (75011)"
    assert resolve_place("Paris 11e").label == "Paris 11e Arrondissement (75011)"
    assert resolve_place("75116").label == "75116 Paris 16e Arrondissement"
    assert resolve_place("Lyon").label == "Lyon (69001)"  # the city, not an arrondissement
    assert resolve_place("13001").label == "13001 Marseille 1er Arrondissement"


def test_belgium() -> None:
    brussels = resolve_place("1000")
    assert (brussels.label, brussels.kind, brussels.country) == ("1000 Bruxelles", "postcode", "BE")
    assert resolve_place("Brussel").label == "Bruxelles (1000)"
    assert resolve_place("Rue de Fer 25, 5000 Namur").label == "Namur (5000)"
    # A French house number that happens to be a Belgian postcode is not one.
    assert resolve_place("1000 route de Bayonne, Pau").label == "Pau (64000)"


def test_loaded_once_and_not_at_import() -> None:
    code = ("import sys, geo.gazetteer as g; assert g._index.cache_info().currsize == 0; "
            "assert not {'flask', 'sqlalchemy'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
    queries = ["Pau", "33000", "Bordeaux 33800", "3 place de la Comédie, Bordeaux", "Perigeux",
               "12 rue des Carmes 64000 Pau", "St-Jean-de-Luz", "Paris 75011", "Namur", "Xyzzy"]
    for number in range(1000):
        try:
            resolve_place(queries[number % len(queries)])
        except LookupError:
            pass
    from geo.gazetteer import _index

    assert _index.cache_info().misses == 1


def test_every_candidate_label_resolves_to_its_own_place() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Villeneuve")
    for candidate in caught.value.candidates:
        again = resolve_place(candidate.label)
        assert (again.ident, again.label) == (candidate.ident, candidate.label)
        assert place_by_id(candidate.ident or "") == candidate


@pytest.mark.parametrize(("text", "label"), [
    ("1 place du Marché, 64000, Pau", "Pau (64000)"),  # a comma right after the postcode
    ("Prix 12,50 64000 Pau", "Pau (64000)"),  # a decimal is no postcode
])
def test_postcode_beside_punctuation(text: str, label: str) -> None:
    assert resolve_place(text).label == label


def _km_from(lat: float, lon: float) -> Callable[[Sequence[tuple[float, float]]],
                                                 list[float | None]]:
    """Distances to one bookshop at (lat, lon), as the pages' look-up answers them."""
    shop = Place("shop", lat, lon, "commune", None, "FR")
    return lambda points: [km(shop, point) for point in points]


def test_a_remote_dominant_namesake_is_asked_about() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Saint-Paul", shop_km=_km_from(*BORDEAUX))
    assert caught.value.remote is not None
    assert caught.value.remote.label == "Saint-Paul (97411, La Réunion)"
    labels = [candidate.label for candidate in caught.value.candidates]
    # Nearest the shop first; the populous one, 9,000 km away, last.
    assert labels[0] == "Saint-Paul (33390, Gironde)" and len(labels) == 8
    assert labels[-1] == "Saint-Paul (97411, La Réunion)"
    assert str(caught.value).startswith("Saint-Paul (97411, La Réunion) est loin")
    # A network in Brittany: every Saint-Paul of metropolitan France is beyond REMOTE_KM, but
    # nearer than La Réunion: the reader is still asked.
    with pytest.raises(AmbiguousPlace):
        resolve_place("Saint-Paul", shop_km=_km_from(48.1173, -1.6778))  # Rennes


def test_a_dominant_namesake_within_reach_or_with_none_nearer_is_chosen() -> None:
    assert resolve_place("Saint-Paul", shop_km=_km_from(-20.88, 55.45)).label == (
        "Saint-Paul (97411)")  # a shop in La Réunion
    assert resolve_place("Saint-Paul", shop_km=lambda points: [None] * len(points)).label == (
        "Saint-Paul (97411)")  # no shop at all
    assert resolve_place("Pau", shop_km=_km_from(*BORDEAUX)).label == "Pau (64000)"


def test_namesakes_within_reach_of_a_shop_are_offered_first() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Sainte-Marie", shop_km=_km_from(43.2951, -0.3708))  # Pau
    labels = [candidate.label for candidate in caught.value.candidates]
    # Within 150 km of Pau, by population: the Gers, then the Hautes-Pyrénées; then the others,
    # by population (without the look-up, the overseas ones would come first).
    assert labels[:2] == ["Sainte-Marie (32200, Gers)", "Sainte-Marie (65370, Hautes-Pyrénées)"]
    assert labels[2] == "Sainte-Marie (97438, La Réunion)" and caught.value.remote is None
