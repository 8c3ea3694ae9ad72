"""Search by ISBN in any form or by title/author words, with typos and without accents."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.isbn import _ean13_check_digit
from app.models import SearchMiss, Shop
from app.services import search
from app.services.search import read_isbn, search_editions
from importers.pipeline import import_file
from tests.factories import make_reservation, make_shop, make_stock_line
from tests.stock_helpers import write_csv

CATALOGUE = [
    "EAN;Titre;Auteur;Editeur;Stock",
    "9782330090159;L'Ordre du jour;Éric Vuillard;Actes Sud;2",
    "9782070612758;Le Petit Prince;Antoine de Saint-Exupéry;Gallimard;3",
    "9782070360024;L'Étranger;Albert Camus;Folio;1",
    "9782253004226;Le Grand Meaulnes;Alain-Fournier;Le Livre de Poche;1",
    "9782070413119;Madame Bovary;Gustave Flaubert;Folio;0",
]


@pytest.fixture()
def stocked(session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path) -> Shop:
    """A Pau shop whose till file brought these editions (and the search vocabulary) in."""
    shop = make_shop(session, slug="gave", lat=43.2951, lon=-0.3708)
    result = import_file(test_sessionmaker, shop=shop,
                         path=write_csv(tmp_path, "stock.csv", CATALOGUE))
    assert result.status == "applied"
    return shop


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("eric vuillar ordre du jour", "L'Ordre du jour"),
        ("jour ordre Vuillard", "L'Ordre du jour"),
        ("Le Petit Prince", "Le Petit Prince"),
        ("st exupery", "Le Petit Prince"),
        ("le petit prnce", "Le Petit Prince"),
        ("L'ETRANGER camus", "L'Étranger"),
        ("etranger", "L'Étranger"),
        ("grand meaul", "Le Grand Meaulnes"),
        ("alain fournier", "Le Grand Meaulnes"),
    ],
)
def test_title_and_author_search(session: Session, stocked: Shop, query: str, title: str) -> None:
    result = search_editions(session, query=query)
    assert result.hits and result.hits[0].title == title


@pytest.mark.parametrize("most_completions", [search.MAX_COMPLETIONS, 0])
@pytest.mark.parametrize("typed", ["meaul", "mea", "me", "m"])
def test_a_word_being_typed_is_completed_or_read_as_a_prefix(
    session: Session, stocked: Shop, monkeypatch: pytest.MonkeyPatch, most_completions: int,
    typed: str
) -> None:
    """The word being typed begins one known word: looked up as that word, or, when it begins
    more than MAX_COMPLETIONS, as a prefix (`meaul:*`), a word start (`^mea`), or not yet at all
    (`me`, `m`); either way the book is found and nothing is reported."""
    monkeypatch.setattr(search, "MAX_COMPLETIONS", most_completions)
    result = search_editions(session, query=f"le grand {typed}")
    assert [hit.title for hit in result.hits] == ["Le Grand Meaulnes"]
    assert (result.corrections, result.unknown) == ({}, [])


def test_three_letters_find_the_words_they_begin(session: Session, stocked: Shop,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "MAX_COMPLETIONS", 0)
    assert [hit.title for hit in search_editions(session, query="pet").hits] == ["Le Petit Prince"]
    assert search_editions(session, query="pe").hits == []  # too short to narrow: not yet


def test_corrections_are_reported(session: Session, stocked: Shop) -> None:
    result = search_editions(session, query="le petit prnce")
    assert result.corrections == {"prnce": "prince"}
    assert search_editions(session, query="xqzwv").unknown == ["xqzwv"]


def test_copies_and_nearest_distance(session: Session, stocked: Shop) -> None:
    bovary, = search_editions(session, query="bovary", origin=(43.30, -0.37)).hits
    assert bovary.shops_with_copy == 0 and bovary.nearest_m is None
    prince = search_editions(session, query="petit prince", origin=(43.30, -0.37)).hits[0]
    assert prince.shops_with_copy == 1 and prince.nearest_m is not None
    assert prince.nearest_m < 1_000


def test_held_copies_and_hidden_shops_do_not_count(session: Session, stocked: Shop) -> None:
    """The hits count shops as the book page lists them: a copy held for a reader is not
    available, and a shop taken off the network is not shown."""
    etranger, pau = "9782070360024", (43.30, -0.37)
    tarbes = make_shop(session, slug="tarbes", lat=43.2328, lon=0.0781)
    make_stock_line(session, shop=tarbes, isbn13=etranger, on_hand=2)
    hit = lambda: search_editions(session, query="etranger", origin=pau).hits[0]  # noqa: E731
    first = hit()
    assert first.shops_with_copy == 2 and first.nearest_m is not None and first.nearest_m < 1_000
    make_reservation(session, shop=stocked, isbn13=etranger)  # the Pau shop's only copy
    held = hit()
    assert held.shops_with_copy == 1 and held.nearest_m is not None and held.nearest_m > 30_000
    tarbes.active = False
    session.flush()
    assert (hit().shops_with_copy, hit().nearest_m) == (0, None)


@pytest.mark.parametrize(("terms", "tsquery"), [
    (["atelier"], "'ateli' | 'atelier'"),  # the French stem in titles, or the plain word
    (["hotel"], "'hotel'"),  # once when the stemmer keeps it, or its matches count twice
    (["prin:*"], "'prin':*"),  # a word being typed is not stemmed
    (["rou:*"], "'^rou'"),  # cut that short, it is a word start
    (["ombre | ombres", "hotel"], "( 'ombre' | 'ombres' ) & 'hotel'"),
])
def test_search_terms_become_one_tsquery(session: Session, terms: list[str], tsquery: str) -> None:
    found = session.scalar(text("SELECT CAST(rayons_search_query(:terms) AS text)"),
                           {"terms": terms})
    assert found == tsquery


@pytest.mark.parametrize("plan", ["enable_seqscan", "enable_bitmapscan"])
def test_a_common_word_is_ranked_over_the_same_sample_whatever_the_plan(
    session: Session, plan: str
) -> None:
    """Beyond MAX_RANKED matches the planner may read the table or the index: both sample the
    same editions, so a reader sees the same hits whichever it chose."""
    session.execute(text(
        "INSERT INTO edition (isbn13, title, authors, publisher) "
        "SELECT '978000' || lpad(n::text, 7, '0'), 'Le phare ' || repeat('des vents ', n % 3) "
        "       || n, 'Auteur ' || n, 'Éditions du large' "
        "FROM generate_series(1, :n) AS n"), {"n": 3 * search.MAX_RANKED})
    session.execute(text("INSERT INTO search_word (word) VALUES ('phare') ON CONFLICT DO NOTHING"))
    either = [hit.isbn13 for hit in search_editions(session, query="phare").hits]
    session.execute(text(f"SET LOCAL {plan} = off"))
    assert [hit.isbn13 for hit in search_editions(session, query="phare").hits] == either
    assert len(either) == 20


@pytest.mark.parametrize(
    ("typed", "isbn13"),
    [
        ("978-2-07-036822-8", "9782070368228"),
        ("ISBN 978 2 07 036822 8", "9782070368228"),
        ("207036822X", "9782070368228"),
        ("2-07-036822-X", "9782070368228"),
        ("978207036822890000", "9782070368228"),  # scanned with its price add-on
        ("0-201-63361-2", "9780201633610"),
    ],
)
def test_isbn_forms(typed: str, isbn13: str) -> None:
    found = read_isbn(typed)
    assert found is not None and found.isbn13 == isbn13


def test_words_are_not_isbns_and_bad_isbns_say_why() -> None:
    assert read_isbn("Le Petit Prince") is None
    assert read_isbn("1984") is None
    bad = read_isbn("978-2-07-036822-9")
    assert bad is not None and bad.isbn13 is None and bad.error is not None
    assert bad.error.reason == "invalid_check_digit"


def test_search_page_sends_an_isbn_to_its_book_page(client: FlaskClient, stocked: Shop) -> None:
    response = client.get("/recherche?q=978-2-07-061275-8&lieu=Pau")
    assert response.status_code == 302
    assert response.headers["Location"] == "/livres/9782070612758?lieu=Pau"


def test_search_page_explains_an_invalid_isbn(client: FlaskClient) -> None:
    page = client.get("/recherche?q=978-2-07-036822-9").get_data(as_text=True)
    assert "Cet ISBN n" in page and "clé de contrôle" in page


@pytest.mark.parametrize(("query", "french", "english"), [
    ("q=978-2-07-036822-9", "(la clé de contrôle) ne correspond pas",
     "(the check digit) does not match"),
    ("q=97820703682", "ne compte ni 10 ni 13 caractères", "is neither 10 nor 13 characters"),
    ("q=9,78207E%2B12", "en notation scientifique", "is in scientific notation"),
    ("q=petit+prince&lieu=Zzyzxqwv", "Lieu introuvable : « Zzyzxqwv »",
     "Place not found: “Zzyzxqwv”"),
    ("q=petit+prince&lieu=Sainte-Marie", "Plusieurs lieux s&#39;appellent « Sainte-Marie »",
     "Several places are called “Sainte-Marie”"),
])
def test_code_and_place_problems_speak_the_readers_language(
    client: FlaskClient, query: str, french: str, english: str
) -> None:
    assert french in client.get(f"/recherche?{query}").get_data(as_text=True)
    page = client.get(f"/recherche?{query}&lang=en").get_data(as_text=True)
    assert english in page and french not in page


def test_search_page_lists_editions_with_copies(client: FlaskClient, stocked: Shop) -> None:
    page = client.get("/recherche?q=vuillar+ordre&lieu=Pau").get_data(as_text=True)
    assert "L&#39;Ordre du jour" in page and "Éric Vuillard" in page
    assert "Dans 1 librairie du réseau" in page
    assert "vuillard" in page  # the correction is shown
    none = client.get("/recherche?q=madame+bovary").get_data(as_text=True)
    assert "Aucune librairie du réseau ne l'a en rayon" in none


def test_unmet_demand_is_counted_without_reader_details(client: FlaskClient, session: Session,
                                                        stocked: Shop) -> None:
    client.get("/recherche?q=madame+bovary&lieu=33000")
    client.get("/recherche?q=Madame+Bovary&lieu=33000")
    client.get("/livres/9782070413119?lieu=Pau")
    rows = [(m.kind, m.term, m.area, m.times) for m in session.scalars(
        select(SearchMiss).order_by(SearchMiss.kind))]
    assert rows == [("isbn", "9782070413119", "64", 1), ("query", "madame bovary", "33", 2)]


def test_staff_see_the_unmet_demand_of_their_network(client: FlaskClient, session: Session,
                                                     stocked: Shop) -> None:
    from tests.factories import make_network, make_staff

    network = make_network(session)
    stocked.networks = [network]
    bordeaux = make_shop(session, postcode="33000", networks=[network])
    staff = make_staff(session, shops=[bordeaux])
    client.get("/recherche?q=madame+bovary&lieu=33000")
    client.get("/recherche?q=les+trois+mousquetaires&lieu=75001")  # outside the network
    response = client.post("/staff/login", data={"email": staff.email,
                                                 "password": "correct horse battery"})
    assert response.status_code == 302
    page = client.get("/staff/demand").get_data(as_text=True)
    assert "« madame bovary »" in page
    assert "mousquetaires" not in page


# Words near the catalogue's, each a trap for a correction that looks only at the typed word:
# "doux" is closer to "douse" than "douce" is by trigrams, "princesse" closer to "prinse" than
# "prince".
NEAR_WORDS = [
    "9782070196678;Chanson douce;Leïla Slimani;Gallimard;2",
    "9782290000007;Un hiver doux;Anne Martin;J'ai lu;1",
    "9782070413768;La Princesse de Clèves;Madame de La Fayette;Folio;1",
]


@pytest.fixture()
def near_words(session: Session, test_sessionmaker: sessionmaker[Session], tmp_path: Path
               ) -> Shop:
    shop = make_shop(session, slug="gave", lat=43.2951, lon=-0.3708)
    result = import_file(test_sessionmaker, shop=shop,
                         path=write_csv(tmp_path, "stock.csv", CATALOGUE + NEAR_WORDS))
    assert result.status == "applied"
    return shop


@pytest.mark.parametrize(("query", "title", "corrections"), [
    ("chanson douse", "Chanson douce", {"douse": "douce"}),
    ("petit prinse", "Le Petit Prince", {"prinse": "prince"}),
    ("princese cleves", "La Princesse de Clèves", {"princese": "princesse"}),
    ("hiver dous", "Un hiver doux", {"dous": "doux"}),
])
def test_a_typo_is_read_as_the_word_that_finds_a_book(
        session: Session, near_words: Shop, query: str, title: str,
        corrections: dict[str, str]) -> None:
    result = search_editions(session, query=query)
    assert [hit.title for hit in result.hits][:1] == [title]
    assert result.corrections == corrections


@pytest.mark.parametrize("query", ["princzzzz", "qwfpgjluy", "zxcamusq", "les"])
def test_gibberish_is_not_corrected_into_unrelated_books(
        session: Session, near_words: Shop, query: str) -> None:
    result = search_editions(session, query=query)
    assert (result.hits, result.corrections, result.unknown) == ([], {}, [query])


def test_an_unknown_word_is_left_out_and_named(client: FlaskClient, session: Session,
                                              near_words: Shop) -> None:
    result = search_editions(session, query="camus qwfpgjluy")
    assert [hit.title for hit in result.hits] == ["L'Étranger"]
    assert result.unknown == ["qwfpgjluy"]
    page = client.get("/recherche?q=camus+qwfpgjluy").get_data(as_text=True)
    assert "L&#39;Étranger" in page
    assert "qwfpgjluy" in page.split('class="notice unknown-words"')[1].split("</p>")[0]


@pytest.mark.parametrize("query", ["le", "de la", "La"])
def test_only_common_words_ask_for_more(client: FlaskClient, session: Session,
                                        near_words: Shop, query: str) -> None:
    result = search_editions(session, query=query)
    assert result.hits == [] and result.only_common_words
    page = client.get("/recherche", query_string={"q": query}).get_data(as_text=True)
    assert "trop courant" in page


def test_search_results_go_past_twenty_on_request(client: FlaskClient, session: Session,
                                                  test_sessionmaker: sessionmaker[Session],
                                                  tmp_path: Path) -> None:
    shop = make_shop(session, slug="gave", lat=43.2951, lon=-0.3708)
    lines = [f"{isbn13(f'978207{n:06d}')};Jardin numéro {n};Anne Jardinier;Folio;1"
             for n in range(25)]
    assert import_file(test_sessionmaker, shop=shop, path=write_csv(
        tmp_path, "stock.csv", ["EAN;Titre;Auteur;Editeur;Stock", *lines])).status == "applied"
    first = client.get("/recherche?q=jardinier").get_data(as_text=True)
    assert first.count('class="edition"') == 20
    assert "Plus de résultats" in first and "tous=1" in first
    every = client.get("/recherche?q=jardinier&tous=1").get_data(as_text=True)
    assert every.count('class="edition"') == 25 and "Plus de résultats" not in every


def isbn13(body: str) -> str:
    return body + _ean13_check_digit(body)
