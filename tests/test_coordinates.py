"""Coordinate checks on the mistakes booksellers make when typing them into the spreadsheet."""

import pytest

from geo.coordinates import CoordinateError, check_location, parse_coordinate

BORDEAUX = (44.8378, -0.5792)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("44.8378", 44.8378, id="decimal-point"),
        pytest.param("44,8378", 44.8378, id="decimal-comma"),
        pytest.param("  -0,5792\t", -0.5792, id="spaces-and-minus"),
        pytest.param("+45", 45.0, id="plus-sign-integer"),
    ],
)
def test_parse_coordinate(raw: str, expected: float) -> None:
    assert parse_coordinate(raw, field="latitude") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("", "longitude manquante", id="empty"),
        pytest.param("   ", "longitude manquante", id="blank"),
        pytest.param("abc", "longitude « abc » n'est pas un nombre", id="garbage"),
        pytest.param("44.8.3", "longitude « 44.8.3 » n'est pas un nombre", id="two-points"),
        pytest.param("44°50'N", "longitude « 44°50'N » n'est pas un nombre",
                     id="degrees-minutes"),
        pytest.param("nan", "longitude « nan » n'est pas un nombre", id="nan"),
        pytest.param("1e2", "longitude « 1e2 » n'est pas un nombre", id="exponent"),
    ],
)
def test_parse_coordinate_rejects(raw: str, message: str) -> None:
    with pytest.raises(CoordinateError) as caught:
        parse_coordinate(raw, field="longitude")
    assert caught.value.field == "longitude"
    assert caught.value.reason == "not_a_number"
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("lat", "lon", "country", "postcode"),
    [
        pytest.param(*BORDEAUX, "FR", "33000", id="bordeaux"),
        pytest.param(43.2951, -0.3708, "FR", "64000", id="pau"),
        pytest.param(41.9192, 8.7386, "FR", "20000", id="ajaccio"),
        pytest.param(*BORDEAUX, "FR", None, id="no-postcode"),
        pytest.param(-21.1151, 55.5364, "FR", "97400", id="reunion"),
        pytest.param(-21.1151, 55.5364, "FR", None, id="reunion-no-postcode"),
        pytest.param(-17.5350, -149.5696, "FR", "98714", id="papeete"),
        pytest.param(50.8467, 4.3525, "BE", "1000", id="brussels"),
        pytest.param(45.5019, -73.5674, "CA", "H2X 1Y4", id="montreal"),
        pytest.param(45.5019, -73.5674, " ca ", None, id="country-case-and-spaces"),
        pytest.param(52.52, 13.405, "DE", "10115", id="unknown-country-range-only"),
    ],
)
def test_check_location_accepts(lat: float, lon: float, country: str, postcode: str | None) -> None:
    check_location(lat, lon, country=country, postcode=postcode)


@pytest.mark.parametrize(
    ("lat", "lon", "country", "postcode", "field", "reason", "message"),
    [
        pytest.param(95, 0.5, "FR", None, "latitude", "latitude_out_of_range",
                     "latitude 95 hors de l'intervalle -90..90", id="latitude-range"),
        pytest.param(45, -180.5, "FR", None, "longitude", "longitude_out_of_range",
                     "longitude -180.5 hors de l'intervalle -180..180", id="longitude-range"),
        pytest.param(95, 0.5, "DE", None, "latitude", "latitude_out_of_range",
                     "latitude 95 hors de l'intervalle -90..90", id="range-for-unknown-country"),
        pytest.param(float("nan"), 0.5, "FR", None, "latitude", "not_a_number",
                     "latitude nan n'est pas un nombre", id="nan"),
        pytest.param(-0.5792, 44.8378, "FR", "33000", "coordinates", "swapped_lat_lon",
                     "latitude et longitude semblent inversées", id="swapped-bordeaux"),
        pytest.param(-0.5792, 44.8378, "FR", None, "coordinates", "swapped_lat_lon",
                     "latitude et longitude semblent inversées", id="swapped-no-postcode"),
        pytest.param(55.5364, -21.1151, "FR", "97400", "coordinates", "swapped_lat_lon",
                     "latitude et longitude semblent inversées", id="swapped-reunion"),
        pytest.param(-73.5674, 45.5019, "CA", None, "coordinates", "swapped_lat_lon",
                     "latitude et longitude semblent inversées", id="swapped-montreal"),
        pytest.param(46.0, -8.0, "FR", "33000", "coordinates", "outside_country",
                     "le point (46, -8) est hors de la zone attendue : France métropolitaine",
                     id="atlantic"),
        pytest.param(46.0, -8.0, "FR", None, "coordinates", "outside_country",
                     "le point (46, -8) est hors de la zone attendue : France",
                     id="atlantic-no-postcode"),
        pytest.param(*BORDEAUX, "FR", "97400", "coordinates", "outside_country",
                     "le point (44.8378, -0.5792) est hors de la zone attendue : La Réunion",
                     id="overseas-postcode-metropolitan-point"),
        pytest.param(*BORDEAUX, "BE", "1000", "coordinates", "outside_country",
                     "le point (44.8378, -0.5792) est hors de la zone attendue : Belgique",
                     id="wrong-country"),
    ],
)
def test_check_location_rejects(
    lat: float,
    lon: float,
    country: str,
    postcode: str | None,
    field: str,
    reason: str,
    message: str,
) -> None:
    with pytest.raises(CoordinateError) as caught:
        check_location(lat, lon, country=country, postcode=postcode)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.field, error.reason, str(error)) == (field, reason, message)
