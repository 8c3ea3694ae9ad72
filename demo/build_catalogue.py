"""Writes demo/catalogue.csv and demo/other_codes.csv, the editions the demo shops stock.

Why a script rather than a hand-made file: 2,000 editions are too many to curate, and a seeded
generator keeps the catalogue reproducible. A hundred real French books (public bibliographic
facts: title, author, usual publisher) carry the demo searches; the rest is invented from word
lists. Every ISBN is synthetic (valid check digit, not the real edition's ISBN).

Run: `python demo/build_catalogue.py` (rewrites both CSV files in place).
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
SEED = "rayons-catalogue-1"
INVENTED_COUNT = 1_900

# Registration group 2 (French language) + a publisher prefix; the item number fills the rest.
REAL_PUBLISHERS = {
    "Gallimard": "207", "Folio": "207", "Folio Junior": "207", "Gallimard Jeunesse": "207",
    "Verticales": "207", "Hachette": "201", "Flammarion": "208", "Casterman": "2203",
    "Dargaud": "2205", "L'École des loisirs": "2211", "Albin Michel": "2226", "Grasset": "2246",
    "Le Livre de Poche": "2253", "Julliard": "2260", "Pocket": "2266", "Didier Jeunesse": "2278",
    "Actes Sud": "2330", "Allary Éditions": "237073", "Éditions de Minuit": "27073",
    "JC Lattès": "27096", "Auzou": "27338", "Dupuis": "28001", "Le Dilettante": "284263",
    "L'Association": "284414", "Tourbillon": "284801", "Philippe Rey": "284876",
    "Éditions Albert René": "286497", "Éditions Blake et Mortimer": "287097",
    "Éditions de Fallois": "287706", "L'Iconoclaste": "2913763",
}


# Invented publishers (any resemblance is accidental), each with a synthetic 4-digit prefix.
INVENTED_PUBLISHERS = """Éditions de l'Estuaire;La Dérive;Éditions du Lierre;Le Phare bleu;
Les Presses du Méridien;Éditions de la Lande;L'Atelier des Pins;Éditions Mascaret;Le Carrelet;
Éditions du Pertuis;Éditions de la Côte d'Argent;Éditions Lamproie;Éditions du Chai;
Le Canoë jaune;Éditions des Deux Rives;Causse & Gave;Éditions du Tilleul;Vent d'Autan;
Éditions La Palombe;Éditions Bastide;L'Escale poche;Poche des Dunes;Bulles d'Estuaire;
Éditions Phylactère;Éditions Petit Galet;Les Mirabelles jeunesse;Presses de la Garonne;
Éditions Cap Ferret;Le Grain de sable;Éditions Sauvignon""".replace("\n", "").split(";")
BD_PUBLISHERS = {"Bulles d'Estuaire", "Éditions Phylactère"}
YOUTH_PUBLISHERS = {"Éditions Petit Galet", "Les Mirabelles jeunesse"}

FIRST_NAMES = """Hélène Éric Françoise Jérôme Amélie Léa Chloé Benoît Gaëlle Maëlys Noël Anaïs Loïc
Zoé Raphaël Céline Aurélien Inès Clémence Sébastien Agnès Joël Thérèse Hervé André Renée Solène
Yannick Claire Paul Marie Louis Camille Jeanne Hugo Margaux Nathalie Olivier Sophie Thomas Julien
Élodie Rémi Cécile Maïté Iñaki Peio Amaia Kenza Yasmina Karim Mehdi Linh Mamadou Aïssatou
Bérénice Grégoire Mathilde Étienne Lucie Adèle Quentin Sandrine Manon Baptiste Ophélie Jean-Marc
Anne-Sophie""".split()
LAST_NAMES = """Lefèvre Müller Dubois Moreau Laurent Garnier Faure Rousseau Blanchard Mercier
Lambert Bonnet Chevalier Gauthier Perrin Barbier Duprat Lacoste Etcheverry Larrieu Dufourcq Bordes
Capdevielle Lafargue Castaing Bergès Daguerre Arrieta Delmas Marty Vergnes Roussel Béranger Ménard
Lévêque Brûlé Prévost Nguyễn Benali Haddad Diallo Traoré Kowalski Ferreira Martins Rossi Schmitt
Hoffmann Le_Goff Le_Bihan Da_Silva Loubière Hourcade Sarrazin Peyrat Cazaux Lecœur Dumoulin
Labat Fontaine Giraud Marchand Besson Jolivet Thibault Rivière Lagarde Ducasse Salles""".split()

# Nouns as word:gender+number (m/f, s/p); adjectives as m/f/mp/fp.
NOUNS = """phare:ms silence:ms jardin:ms fleuve:ms port:ms verger:ms chemin:ms vent:ms secret:ms
hiver:ms été:ms rivage:ms moulin:ms marais:ms carnet:ms voyageur:ms libraire:ms village:ms ciel:ms
songe:ms estuaire:ms océan:ms orage:ms atelier:ms héritage:ms exil:ms maison:fs rivière:fs nuit:fs
île:fs forêt:fs mémoire:fs saison:fs lumière:fs dune:fs vigne:fs lande:fs marée:fs route:fs
fille:fs lettre:fs promesse:fs frontière:fs cabane:fs colline:fs tempête:fs vallée:fs épicerie:fs
traversée:fs oiseaux:mp jours:mp enfants:mp étés:mp pins:mp absents:mp naufragés:mp vendanges:fp
ombres:fp heures:fp brumes:fp falaises:fp saisons:fp sœurs:fp années:fp""".split()
ADJECTIVES = """bleu/bleue/bleus/bleues lointain/lointaine/lointains/lointaines
silencieux/silencieuse/silencieux/silencieuses perdu/perdue/perdus/perdues
oublié/oubliée/oubliés/oubliées immobile/immobile/immobiles/immobiles
secret/secrète/secrets/secrètes sauvage/sauvage/sauvages/sauvages doux/douce/doux/douces
profond/profonde/profonds/profondes fragile/fragile/fragiles/fragiles
blanc/blanche/blancs/blanches noir/noire/noirs/noires salé/salée/salés/salées
ancien/ancienne/anciens/anciennes clair/claire/clairs/claires
invisible/invisible/invisibles/invisibles
endormi/endormie/endormis/endormies brûlé/brûlée/brûlés/brûlées dernier/dernière/derniers/dernières
""".split()
PLACES = """Bordeaux Arcachon Biarritz Bayonne Périgueux Sarlat Limoges Poitiers Royan Cognac Oléron
Brive Tulle Lisbonne Trieste Tanger Naples Québec Valparaíso Odessa Alger Dakar Montréal Venise
Saint-Malo Brest Soulac Hossegor Lacanau Angoulême""".split()
OPENERS = ["Une saison à", "Un été à", "Retour à", "Dernier train pour", "Lettres de", "Nocturne à",
           "Les Nuits de", "Le Libraire de", "Un hiver à", "La Dame de"]
VERBS = [("savait", "savaient"), ("a vu", "ont vu"), ("disait", "disaient"),
         ("cachait", "cachaient"), ("a oublié", "ont oublié"), ("murmure", "murmurent")]
ESSAY_OPENERS = ["Petit traité", "Éloge", "Brève histoire", "Atlas", "Dictionnaire amoureux",
                 "Géographie intime", "Manuel de survie à l'usage"]
ANIMALS = ["Le petit renard", "La chouette", "L'ourson", "Le hérisson", "La baleine", "Le loup",
           "La tortue", "Le chaton", "La petite taupe", "Le crocodile", "L'escargot"]
CLAUSES = ["qui voulait voir la mer", "qui ne voulait pas dormir", "qui avait peur du noir",
           "qui cherchait sa maman", "qui collectionnait les nuages", "qui savait compter",
           "et la lune", "va à l'école", "fait du vélo", "n'aime pas la soupe"]
BD_SERIES = ["Capitaine Mouette", "Les Enquêtes de Jeanne Morvan", "Garonne Express",
             "Pimprenelle", "Les Corsaires du Bassin", "Baskoland", "Lucas et les Ombres"]

Noun = tuple[str, str]
_NOUNS: list[Noun] = [(entry.split(":")[0], entry.split(":")[1]) for entry in NOUNS]


def check_digit(first12: str) -> str:
    """EAN-13 / ISBN-13 check digit: weights 1,3,1,3... on the first twelve digits."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def _article(noun: Noun, prep: str = "") -> str:
    """`le phare`, `l'estuaire`, `du vent`, `des pins`, `à la dune`: French contractions."""
    word, gn = noun
    if gn[1] == "p":
        art = {"": "les ", "de": "des ", "à": "aux "}[prep]
    elif word[0] in "aeiouyéèêîôœh":
        art = {"": "l'", "de": "de l'", "à": "à l'"}[prep]
    elif gn[0] == "m":
        art = {"": "le ", "de": "du ", "à": "au "}[prep]
    else:
        art = f"{prep} la ".lstrip()
    return art + word


def _cap(phrase: str) -> str:
    """French title case: capital on the first word, and on the noun after a leading article."""
    phrase = phrase[0].upper() + phrase[1:]
    for art in ("Le ", "La ", "Les ", "L'"):
        if phrase.startswith(art) and len(phrase) > len(art):
            return art + phrase[len(art)].upper() + phrase[len(art) + 1:]
    return phrase


def _adjective(rng: random.Random, noun: Noun) -> str:
    forms = rng.choice(ADJECTIVES).split("/")
    return forms[{"ms": 0, "fs": 1, "mp": 2, "fp": 3}[noun[1]]]


def _title(rng: random.Random, publisher: str) -> str:
    """One invented title whose shape fits the publisher (album, picture book or general)."""
    a, b = rng.sample(_NOUNS, 2)
    if publisher in BD_PUBLISHERS:
        inner = _cap(f"{_article(a)} {_adjective(rng, a)}")
        return f"{rng.choice(BD_SERIES)} – Tome {rng.randint(1, 14)} : {inner}"
    if publisher in YOUTH_PUBLISHERS:
        return f"{rng.choice(ANIMALS)} {rng.choice(CLAUSES)}"
    shape = rng.randrange(7)
    if shape == 0:
        return _cap(f"{_article(a)} {_adjective(rng, a)}")
    if shape == 1:
        return _cap(f"{_article(a)} {_article(b, 'de')}")
    if shape == 2:
        opener, place = rng.choice(OPENERS), rng.choice(PLACES)
        if opener.endswith(" de") and place[0] in "AEIOUÉ":
            return f"{opener[:-2]}d'{place}"
        return f"{opener} {place}"
    if shape == 3:
        return _cap(f"{_article(a)} et {_article(b)}")
    if shape == 4:
        verb = rng.choice(VERBS)[1 if a[1][1] == "p" else 0]
        return f"Ce que {_article(a)} {verb}"
    if shape == 5:
        return f"{rng.choice(ESSAY_OPENERS)} {_article(a, 'de')}"
    return _cap(f"{_article(a)} {_adjective(rng, a)} {_article(b, 'de')}")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES).replace('_', ' ')}"


class _Isbns:
    """Hands out unique synthetic ISBN-13s under a publisher prefix."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set[str]()

    def next(self, prefix: str) -> str:
        digits = 9 - len(prefix)
        while True:
            body = f"978{prefix}{self.rng.randrange(10 ** digits):0{digits}d}"
            isbn = body + check_digit(body)
            if isbn not in self.used:
                self.used.add(isbn)
                return isbn


def build_catalogue(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """Real books first (they carry the demo searches), then the invented ones."""
    isbns = _Isbns(rng)
    with open(DEMO_DIR / "real_books.csv", encoding="utf-8", newline="") as handle:
        real = [(r["title"], r["authors"], r["publisher"])
                for r in csv.DictReader(handle, delimiter=";")]
    rows = [(isbns.next(REAL_PUBLISHERS[publisher]), title, authors, publisher)
            for title, authors, publisher in real]
    free = [p for p in range(7000, 8400) if str(p) not in ("7073", "7096", "7338", "8001")]
    prefixes = {name: f"2{p}"
                for name, p in zip(INVENTED_PUBLISHERS, rng.sample(free, 30), strict=True)}
    seen_titles = {row[1] for row in rows}
    while len(rows) < len(real) + INVENTED_COUNT:
        publisher = rng.choices(INVENTED_PUBLISHERS, weights=range(30, 0, -1))[0]
        title = _title(rng, publisher)
        if title in seen_titles:
            continue
        seen_titles.add(title)
        two = publisher in BD_PUBLISHERS or rng.random() < 0.07
        authors = ", ".join([_person(rng), _person(rng)] if two else [_person(rng)])
        rows.append((isbns.next(prefixes[publisher]), title, authors, publisher))
    return rows


OTHER_CODES = [
    ("ismn", "97906000", "Sonatines pour hautbois (partition)"),
    ("ismn", "97906000", "Méthode de guitare pour débutants"),
    ("ismn", "97902321", "Chants basques pour chœur mixte"),
    ("ismn", "97902321", "Suites pour violoncelle seul (partition)"),
    ("ismn", "97905601", "Préludes pour piano"),
    ("ismn", "97905601", "Airs d'opérette pour voix et piano"),
    ("ismn", "97905601", "Noëls gascons pour chorale"),
    ("gtin", "3760", "Carnet A5 ligné kraft"),
    ("gtin", "3760", "Marque-pages illustrés (lot de 5)"),
    ("gtin", "3760", "Tote bag « Lire en Aquitaine »"),
    ("gtin", "3760", "Carte postale Dune du Pilat"),
    ("gtin", "3761", "Stylo plume bleu nuit"),
    ("gtin", "3761", "Agenda semainier 2027"),
    ("gtin", "3761", "Puzzle 500 pièces Bassin d'Arcachon"),
    ("internal", "200000", "Marque-page maison"),
    ("internal", "200000", "Sac kraft au logo de la librairie"),
    ("internal", "200000", "Livre d'occasion"),
    ("internal", "200000", "Papeterie diverse"),
    ("internal", "200000", "Calendrier de l'Avent littéraire"),
    ("internal", "200000", "Lot de cartes de vœux"),
]


def build_other_codes(rng: random.Random) -> list[tuple[str, str, str]]:
    """Sheet music (ISMN), stationery (GTIN) and in-shop codes: what tills export next to books."""
    rows = []
    for kind, prefix, label in OTHER_CODES:
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(12 - len(prefix)))
        rows.append((body + check_digit(body), kind, label))
    return rows


def main() -> None:
    rng = random.Random(SEED)
    for name, header, rows in (
        ("catalogue.csv", ["isbn13", "title", "authors", "publisher"], build_catalogue(rng)),
        ("other_codes.csv", ["code", "kind", "label"], build_other_codes(rng)),
    ):
        with open(DEMO_DIR / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


if __name__ == "__main__":
    main()
