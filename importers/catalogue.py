"""Catalogue files: the titles, authors and publishers of books the stock files name by code only.

Most tills, scanner dumps and the provider JSON send codes and counts, so the editions they create
have no title, and a reader typing the title never finds the book. A distributor's metadata-only
ONIX (2.1 or 3.x, reference or short tags) or a plain bibliographic table (ISBN, titre, auteur,
éditeur) fills them in. A catalogue never touches stock, never creates an edition (a million
catalogue books nobody stocks would crowd the shelves' books out of search results) and never
erases a value with a blank: by default it fills only what is empty, and with `replace` its
non-empty values also correct what the shops' files said.

One flow for every way in: `read_catalogue` parses (streaming, as the stock parsers do: the same
record shape, its quantity and price ignored), `apply_descriptions` writes through one staging
table, and the enrichment job (importers/enrichment.py) goes through the same writer.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.isbn import PUBLIC_CODE_KINDS
from importers import onix
from importers.delimited import DelimitedSource
from importers.records import FileRefused, LineIssue, StockRecord
from importers.registry import detect_format
from importers.spreadsheet import SpreadsheetSource
from importers.tabular import Columns, TabularSource

CATALOGUE_FORMATS = ("onix", "delimited", "xlsx")
# Rejections kept for the report; the count goes on past them.
MAX_REPORTED = 200
# A title or a list of authors longer than this is a blurb, a broken export or an attack.
MAX_FIELD_CHARS = 1000
DESCRIPTION_FIELDS = ("title", "authors", "publisher")

# A catalogue's code column is its barcode or ISBN: a till's own reference means nothing here.
# Spelled once each: case, accents, spaces and punctuation are folded away as for stock files.
CATALOGUE_HEADERS = {
    "code": ("EAN", "EAN13", "Code EAN", "Gencod", "Gencode", "Code barre", "ISBN", "ISBN13",
             "Code ISBN", "GTIN", "GTIN13"),
    "title": ("Titre", "title", "Book title", "Libellé", "Désignation"),
    "authors": ("Auteur", "Auteurs", "Auteur(s)", "author", "authors", "Contributeur",
                "Contributor"),
    "publisher": ("Éditeur", "Éditeurs", "publisher", "Maison d'édition", "Marque", "Imprint"),
}


@dataclass(frozen=True, slots=True)
class Description:
    """What a catalogue line says of one book (code normalised, texts stripped)."""

    line: int
    code: str
    title: str = ""
    authors: str = ""
    publisher: str = ""


@dataclass
class CatalogueReport:
    """What one catalogue did: per distinct code, filled, already known or unknown here."""

    file: str
    format: str
    lines_read: int = 0
    codes: int = 0  # distinct codes with a usable description
    filled: int = 0  # editions that got a title, authors or publisher they did not have
    already_known: int = 0  # editions that already said all the line says
    unknown: int = 0  # codes no shop has sent: no edition to fill
    rejected: int = 0
    rejections: list[LineIssue] = field(default_factory=list)  # the first MAX_REPORTED
    refused: FileRefused | None = None  # the whole file unusable: nothing applied

    def reject(self, issue: LineIssue) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REPORTED:
            self.rejections.append(issue)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file, "format": self.format, "lines_read": self.lines_read,
            "codes": self.codes, "filled": self.filled, "already_known": self.already_known,
            "unknown": self.unknown, "rejected": self.rejected,
            "refused": None if self.refused is None else {
                "reason": self.refused.reason_code, "message": self.refused.message},
            "rejections": [{"line": r.line, "field": r.field, "value": r.raw_value,
                            "reason": r.reason_code, "message": r.message}
                           for r in self.rejections],
        }

    def summary_line(self) -> str:
        if self.refused is not None:
            return (f"refused ({self.refused.reason_code}): {self.refused.message}; "
                    "nothing applied")
        return (f"{self.file}: {self.lines_read} lines read, {self.filled} filled, "
                f"{self.already_known} already known, {self.unknown} unknown code, "
                f"{self.rejected} rejected")


class _CatalogueColumns(TabularSource):
    """A table of books: found by its header (a catalogue without one would be a guess), with a
    code column and at least one of title, authors, publisher; quantities are not read."""

    header_synonyms = CATALOGUE_HEADERS
    required_fields = ("code",)

    def _columns(self, first_row: Sequence[object]) -> Columns:
        columns = super()._columns(first_row)
        if not columns.header:
            raise FileRefused("missing_header",
                              "un catalogue commence par une ligne d'en-tête (ISBN ; Titre ; "
                              "Auteur ; Éditeur) : la première ligne est déjà un livre")
        if not set(DESCRIPTION_FIELDS) & set(columns.positions):
            raise FileRefused("missing_columns",
                              "colonne introuvable : titre, auteur ou éditeur (un catalogue "
                              "décrit les livres ; pour du stock, utilisez l'import de stock)")
        return columns


class CatalogueTable(_CatalogueColumns, DelimitedSource):
    """A CSV/TSV catalogue, read (encoding, separator, bounds) as a delimited stock file."""


class CatalogueSheet(_CatalogueColumns, SpreadsheetSource):
    """An .xlsx catalogue, read as a spreadsheet stock file."""


class CatalogueOnix(onix.OnixSource):
    """A metadata-only ONIX message: every product with a code, whatever its stock says (or
    its prices' currency: a catalogue stores no price)."""

    refuses_catalogues = False

    def _read_product(self, line: int, product: onix._Node, locations: set[str | None],
                      default_currency: str) -> Iterator[StockRecord | LineIssue]:
        code = onix._code(line, product)
        if isinstance(code, LineIssue):
            yield code
            return
        publisher = onix._best(product.get("Publisher", []), "PublishingRole", ("01",))
        yield StockRecord(line=line, code=code.code, kind=code.kind, quantity=0,
                          title=onix._title(product), authors=onix._authors(product),
                          publisher=(onix._text(publisher, "PublisherName")
                                     or onix._text(product, "PublisherName")))


def open_catalogue(path: Path, *, format: str | None = None) -> Iterable[StockRecord | LineIssue]:
    """The parser for a catalogue file, judged by content unless `format` says."""
    chosen = format or detect_format(path)
    if chosen == "onix":
        return CatalogueOnix(path)
    if chosen == "xlsx":
        return CatalogueSheet(path)
    if chosen in ("delimited", "scanner"):  # one column only: refused for want of a title
        return CatalogueTable(path)
    raise FileRefused("unsupported_format",
                      f"format non pris en charge pour un catalogue ({chosen}) : ONIX, CSV ou "
                      "XLSX avec les colonnes ISBN, Titre, Auteur, Éditeur")


def describe(item: StockRecord | LineIssue) -> Description | LineIssue | None:
    """A parsed line as a description, or why it describes nothing; None for a mere notice."""
    if isinstance(item, LineIssue):
        return item if item.rejected else None
    if item.kind not in PUBLIC_CODE_KINDS:
        return LineIssue(item.line, "code", item.code, "not_a_book",
                         f"{item.code} n'est ni un ISBN ni un ISMN : aucune notice de livre "
                         "à compléter")
    values = {name: getattr(item, name).replace("\x00", "").strip() for name in DESCRIPTION_FIELDS}
    if not any(values.values()):
        return LineIssue(item.line, "title", item.code, "no_description",
                         "ni titre, ni auteur, ni éditeur pour ce code")
    for name, value in values.items():
        if len(value) > MAX_FIELD_CHARS:
            return LineIssue(item.line, name, value[:80], "field_too_long",
                             f"{name} de plus de {MAX_FIELD_CHARS} caractères : ce n'est pas "
                             "une notice")
    return Description(item.line, item.code, **values)


def import_catalogue(session: Session, *, path: Path, format: str | None = None,
                     replace: bool = False, name: str | None = None) -> CatalogueReport:
    """Fill editions from one catalogue file; the caller commits (nothing is written when the
    file is refused, and the editions stay as they were)."""
    chosen = format or detect_format(path)
    report = CatalogueReport(file=name or path.name, format=chosen)
    try:
        descriptions = _described(open_catalogue(path, format=chosen), report)
        apply_descriptions(session, descriptions, replace=replace, report=report)
    except FileRefused as refused:
        report.refused = refused
    return report


def _described(items: Iterable[StockRecord | LineIssue],
               report: CatalogueReport) -> Iterator[Description]:
    for item in items:
        described = describe(item)
        if described is None:
            continue
        report.lines_read += 1
        if isinstance(described, LineIssue):
            report.reject(described)
        else:
            yield described


DROP_STAGING = text("DROP TABLE IF EXISTS pg_temp.catalogue_staging")
CREATE_STAGING = text("""
    CREATE TEMP TABLE catalogue_staging (
        line integer, code text, title text, authors text, publisher text
    ) ON COMMIT DROP
""")
# Per code the best-filled line (a catalogue may list a book twice), in byte order: the order
# the stock merge fills editions in, so that the two lock edition rows in the same order.
BEST_DESCRIPTIONS = """
    SELECT DISTINCT ON (code COLLATE "C") code, title, authors, publisher
    FROM catalogue_staging
    ORDER BY code COLLATE "C",
             (title <> '')::int + (authors <> '')::int + (publisher <> '')::int DESC,
             length(title) + length(authors) + length(publisher) DESC, line
"""
LOCK_EDITIONS = text(f"""
    SELECT count(*) FROM (
        SELECT 1 FROM edition e JOIN ({BEST_DESCRIPTIONS}) b ON e.isbn13 = b.code
        ORDER BY e.isbn13 COLLATE "C" FOR UPDATE OF e
    ) AS locked
""")


def _takes(column: str) -> str:
    """Whether the catalogue's value replaces the stored one: never a blank, never the same."""
    return (f"(b.{column} <> '' AND b.{column} IS DISTINCT FROM e.{column}"
            f" AND (e.{column} = '' OR CAST(:replace AS boolean)))")


FILL_FROM_STAGING = text(f"""
    WITH best AS MATERIALIZED ({BEST_DESCRIPTIONS}),
    filled AS (
        UPDATE edition e SET
            title = CASE WHEN {_takes("title")} THEN b.title ELSE e.title END,
            authors = CASE WHEN {_takes("authors")} THEN b.authors ELSE e.authors END,
            publisher = CASE WHEN {_takes("publisher")} THEN b.publisher ELSE e.publisher END,
            updated_at = now()
        FROM best b
        WHERE e.isbn13 = b.code
          AND ({_takes("title")} OR {_takes("authors")} OR {_takes("publisher")})
        RETURNING e.isbn13, e.title, e.authors
    ),
    -- New words feed the typo-correction vocabulary, as the stock merge's do.
    words AS (
        INSERT INTO search_word (word)
        SELECT DISTINCT rayons_words(title || ' ' || authors) FROM filled
        ON CONFLICT DO NOTHING
    )
    SELECT (SELECT count(*) FROM best) AS codes,
           (SELECT count(*) FROM best b
            WHERE NOT EXISTS (SELECT 1 FROM edition e WHERE e.isbn13 = b.code)) AS unknown,
           (SELECT count(*) FROM filled) AS filled
""")


def apply_descriptions(session: Session, descriptions: Iterable[Description], *,
                       replace: bool = False,
                       report: CatalogueReport | None = None) -> CatalogueReport:
    """COPY the descriptions into staging, then fill the editions they name in one statement.

    FileRefused raised by the parser while staging propagates (the caller reports it, nothing
    is filled). The counts land in `report` (a fresh one if none is given).
    """
    report = report or CatalogueReport(file="", format="")
    session.execute(DROP_STAGING)
    session.execute(CREATE_STAGING)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
        "COPY catalogue_staging (line, code, title, authors, publisher) FROM STDIN"
    ) as copy:
        # A refusal must end the COPY cleanly: an exception inside the block would abort the
        # transaction with it.
        refused: FileRefused | None = None
        try:
            for item in descriptions:
                copy.write_row((item.line, item.code, item.title, item.authors, item.publisher))
        except FileRefused as exc:
            refused = exc
    if refused is not None:
        session.execute(DROP_STAGING)
        raise refused
    session.execute(LOCK_EDITIONS)
    codes, unknown, filled = session.execute(FILL_FROM_STAGING, {"replace": replace}).one()
    report.codes, report.unknown, report.filled = codes, unknown, filled
    report.already_known = codes - unknown - filled
    session.execute(DROP_STAGING)
    return report
