"""pipeline.pdf.document: PDFs come out in the TAB shape of the report .txt files.

Two kinds of input:
- the sample PDFs (typeset from the sample texts; in raw/ or ../shared/samples, skipped if absent),
  each extracted once per module;
- small fixtures in tests/fixtures/pdf/, typeset differently (other fonts and sizes, tables without
  borders, tables over a page break with and without a repeated header, a landscape page, a name over
  four lines). tests/fixtures/make_pdf_fixtures.py made them and their .expected.tsv files; these
  tests need neither LibreOffice nor that script.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.common.models import TextLine
from pipeline.pdf.document import pdf_to_lines

from .conftest import SAMPLE_FILES

ROOT = Path(__file__).parent.parent
SAMPLE_DIRS = (ROOT / "raw", ROOT.parent / "shared" / "samples")
FIXTURE_DIR = Path(__file__).parent / "fixtures" / "pdf"
FIXTURES = sorted(path.stem for path in FIXTURE_DIR.glob("*.pdf"))
PAIRS = ("000", "001", "003", "004")
COMMENT_ROW = re.compile(r"^(Kommentar|Analys)\b")


def sample_pdf(key: str) -> Path:
    name = SAMPLE_FILES[key] + ".pdf"
    for folder in SAMPLE_DIRS:
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"{name} is neither in raw/ nor in ../shared/samples")


@pytest.fixture(scope="module")
def sample_lines():
    cache: dict[str, list[TextLine]] = {}

    def get(key: str) -> list[TextLine]:
        if key not in cache:
            cache[key] = pdf_to_lines(str(sample_pdf(key)))
        return cache[key]

    return get


def texts(lines: list[TextLine]) -> list[str]:
    return [line.text for line in lines]


def line_starting(lines: list[TextLine], start: str) -> TextLine:
    found = [line for line in lines if line.text.startswith(start)]
    assert found, f"no line starts with {start!r}"
    return found[0]


def indicator_tables(lines: list[TextLine]) -> list[tuple[list[str], list[list[str]]]]:
    """(header cells, rows' cells) of every indicator table: the lines from an "Indikator" header to
    the empty line that ends the table, Kommentar/Analys rows left out."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    rows: list[list[str]] | None = None
    for line in lines:
        if line.text.startswith("Indikator\t"):
            rows = []
            tables.append((line.text.split("\t"), rows))
        elif rows is not None and not line.text:
            rows = None
        elif rows is not None and not COMMENT_ROW.match(line.text):
            rows.append(line.text.split("\t"))
    return tables


# --- the sample PDFs --------------------------------------------------------------------------


def test_sample_000_welfare_children_row(sample_lines):
    row = line_starting(sample_lines("000"), "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd\t")
    assert row.text.split("\t") == [
        "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd",
        "5,79 %",
        "5,77 %",
        "5,6 %",
        "5,5 %",
        "4,0 %",
        "Tertial 1 2014",
    ]
    assert row.page == 6


def test_sample_000_comment_row_is_one_line_under_its_row(sample_lines):
    lines = texts(sample_lines("000"))
    i = lines.index(
        "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd\t5,79 %\t5,77 %\t5,6 %\t5,5 %"
        "\t4,0 %\tTertial 1 2014"
    )
    assert lines[i + 1] == (
        "Kommentar Andelen barn som lever i familjer som är beroende av ekonomiskt bistånd är fortsatt högt. "
        "En minskning har dock skett i jämförelse med motsvarande period 2013 då andelen var 5,9%. "
        "Utvecklingsarbete pågår."
    )


def test_sample_000_words_broken_in_narrow_cells_are_joined(sample_lines):
    lines = texts(sample_lines("000"))
    assert "Andel dubbdäck\t\t12 %\t\t0 %\ttas fram av nämnden/styrelsen\t2014" in lines
    assert (
        "Mängden matavfall som stadens verksamheter sorterar ut för biologisk behandling\t\t59,3 %\t\t50 %"
        "\tfastställs 2014\t2014"
    ) in lines


def test_sample_001_header_words_broken_inside_cells_are_joined(sample_lines):
    headers = {line.text for line in sample_lines("001") if line.text.startswith("Indikator\t")}
    assert headers == {
        "Indikator\tPeriodens utfall\tUtfall män/pojkar\tUtfall kvinnor/flickor\tPeriodens utfall VB 2020"
        "\tPrognos helår\tÅrsmål\tKF:s årsmål\tPeriod"
    }


def test_sample_001_row_broken_over_a_page_is_one_row(sample_lines):
    row = line_starting(sample_lines("001"), "♀ Andel nyanlända kvinnor och män som får ett personligt erbjudande")
    assert row.text.split("\t") == [
        "♀ Andel nyanlända kvinnor och män som får ett personligt erbjudande om samhällsvägledning inom en "
        "månad från det att stadsdelsförvaltningen har fått underlag över inflyttade till stadsdelsområdet.",
        "100 %",
        "",
        "",
        "100 %",
        "100 %",
        "100 %",
        "",
        "Tertial 1 2021",
    ]
    assert row.page == 8  # where the row starts; its rest is on page 9


def test_sample_001_analysis_broken_over_a_page_is_one_line(sample_lines):
    line = line_starting(sample_lines("001"), "Analys Analyser på individnivå visar att de barn som ej når")
    assert line.text.endswith("Förvaltningen verkar för att undvika sammanbrott i familjehem.")


def test_sample_001_empty_cells_keep_columns_in_place(sample_lines):
    row = line_starting(sample_lines("001"), "Andel smarta lås i hemtjänsten\t")
    assert row.text.split("\t") == [
        "Andel smarta lås i hemtjänsten",
        "",
        "",
        "",
        "",
        "",
        "0 %",
        "Tas fram av nämnd",
        "2021",
    ]


def test_sample_004_glyph_kept_at_start_of_name(sample_lines):
    row = line_starting(sample_lines("004"), "● Andel personer beroende av ekonomiskt bistånd")
    assert row.text.split("\t")[1:] == ["0,38 %", "0,4 %", "0,5 %", "2,3 %", "VB 2013"]


@pytest.mark.parametrize(("key", "count"), [("000", 67), ("001", 67), ("003", 78), ("004", 10)])
def test_sample_indicator_row_counts(sample_lines, key, count):
    # the samples' README: 67, 67, 78 and 10 indicator rows, as in the .txt files
    tables = indicator_tables(sample_lines(key))
    assert sum(len(rows) for _, rows in tables) == count


@pytest.mark.parametrize("key", PAIRS)
def test_sample_rows_have_as_many_cells_as_their_header(sample_lines, key):
    for header, rows in indicator_tables(sample_lines(key)):
        for cells in rows:
            assert len(cells) == len(header), cells


@pytest.mark.parametrize("key", PAIRS)
def test_sample_every_line_has_a_page_and_numbers_run_per_page(sample_lines, key):
    lines = sample_lines(key)
    assert lines
    expected_no: dict[int, int] = {}
    previous_page = 1
    for line in lines:
        assert isinstance(line.page, int) and line.page >= previous_page
        expected_no[line.page] = expected_no.get(line.page, 0) + 1
        assert line.line_no == expected_no[line.page]
        previous_page = line.page


RUNNING_TITLES = {
    "000": "Tertialrapport 1 2014 för Hässelby-Vällingby stadsdelsnämnd",
    "001": "Tertialrapport 1 2021 Hägersten-Älvsjö stadsdelsnämnd",
    "003": "Verksamhetsplan 2020 för Rinkeby-Kista stadsdelsnämnd",
    "004": "Verksamhetsberättelse 2013 Försörjningsstödsenheten, Östermalms stadsdelsnämnd",
}


@pytest.mark.parametrize("key", PAIRS)
def test_sample_running_headers_and_footers_are_left_out(sample_lines, key):
    lines = sample_lines(key)
    assert max(line.page for line in lines) > 10
    assert not [line for line in lines if re.fullmatch(r"Sida \d+ \(\d+\)", line.text)]
    # the title in the page header of every page but the first: at most the cover's own line is left
    assert texts(lines).count(RUNNING_TITLES[key]) <= 1


def test_sample_000_headings_and_cover_are_lines_of_their_own(sample_lines):
    lines = sample_lines("000")
    cover = line_starting(lines, "Tertialrapport 1 2014 för Hässelby-Vällingby stadsdelsnämnd")
    assert cover.text == "Tertialrapport 1 2014 för Hässelby-Vällingby stadsdelsnämnd" and cover.page == 1
    all_texts = texts(lines)
    for heading in (
        "KF:s mål för verksamhetsområdet:",
        "Nämndmål:",
        "1.2 Invånare i Stockholm är självförsörjande",
        "Uppfylls helt",
        "Uppfylls inte",
    ):
        assert heading in all_texts


def test_sample_000_table_split_over_pages_is_rejoined_without_repeated_header(sample_lines):
    lines = texts(sample_lines("000"))
    i = lines.index("Antal barn per grupp\t\t15,6 barn/avd.\t\t16\t16\t2014")
    # the rows around the page break follow each other, no header line between them
    assert lines[i - 1].startswith("Andel nöjda föräldrar\t")
    assert lines[i + 1].startswith("Antal förskolebarn per anställd (årsarbetare)\t")


# --- the layout fixtures ----------------------------------------------------------------------


def expected_blocks(name: str) -> list[list[tuple[int, str]]]:
    text = (FIXTURE_DIR / f"{name}.expected.tsv").read_text(encoding="utf-8")
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        rows = []
        for line in block.split("\n"):
            page, _, row = line.partition("\t")
            rows.append((int(page), row))
        blocks.append(rows)
    return blocks


@pytest.fixture(scope="module")
def fixture_lines():
    cache: dict[str, list[TextLine]] = {}

    def get(name: str) -> list[TextLine]:
        if name not in cache:
            cache[name] = pdf_to_lines(str(FIXTURE_DIR / f"{name}.pdf"))
        return cache[name]

    return get


def test_there_are_fixtures():
    assert len(FIXTURES) >= 7


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_tables_row_by_row_and_cell_by_cell(fixture_lines, name):
    """Each table of the fixture comes out as exactly its header and rows, in order, on their pages,
    followed by the empty line that ends a table."""
    got = [(line.page, line.text) for line in fixture_lines(name)]
    start = 0
    for block in expected_blocks(name):
        header = block[0]
        assert header in got[start:], f"{name}: header {header} not found"
        at = got.index(header, start)
        assert got[at : at + len(block)] == block
        assert got[at + len(block)][1] == ""
        start = at + len(block)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_lines_have_pages_and_no_running_lines(fixture_lines, name):
    lines = fixture_lines(name)
    assert all(isinstance(line.page, int) and line.page >= 1 for line in lines)
    assert not [line for line in lines if line.text.startswith("Sida ")]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_goal_headings_are_lines_of_their_own(fixture_lines, name):
    all_texts = texts(fixture_lines(name))
    assert "KF:s mål för verksamhetsområdet:" in all_texts
    assert "1.2 Invånare i Stockholm är självförsörjande" in all_texts
    assert "Uppfylls delvis" in all_texts


def test_fixture_cover_title_wrapped_by_the_pdf_is_one_line(fixture_lines):
    # 15 pt: the title wraps after "Hässelby-Vällingby" in the PDF
    lines = fixture_lines("f01_serif_grid")
    assert lines[0] == TextLine(1, 1, "Tertialrapport 1 2014 för Hässelby-Vällingby stadsdelsnämnd")


def test_fixture_paragraph_is_one_line(fixture_lines):
    all_texts = texts(fixture_lines("f02_borderless"))
    assert (
        all_texts.count(
            "Förvaltningens planeringsnivå för 2014 när det gäller behovet av försörjningsstöd utgår från ett "
            "genomsnitt av 1 123 bidragshushåll per månad med ett genomsnittligt belopp av 9 197 kr per månad. "
            "Under årets första månader har antalet bidragshushåll varit i genomsnitt 1 194 bidragshushåll per "
            "månad vilket är högre än den planerade budgetnivån. Ett utvecklingsarbete pågår för att minska "
            "antalet bidragshushåll."
        )
        == 2
    )


def test_fixture_landscape_page(fixture_lines):
    lines = fixture_lines("f05_landscape")
    assert {line.page for line in lines} == {1, 2}
    assert line_starting(lines, "Nämndmål:").page == 2


# --- files that are not ordinary PDFs -------------------------------------------------------------


def minimal_pdf(content: bytes) -> bytes:
    """A one-page PDF drawing `content` (a content stream), with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_pdf_without_text_layer_gives_no_lines(tmp_path):
    path = tmp_path / "scan.pdf"
    # a grid of lines and a filled box, as a scanned page with no text layer might carry
    path.write_bytes(
        minimal_pdf(b"1 w 50 50 m 500 50 l S 50 100 m 500 100 l S 100 40 m 100 400 l S 60 500 200 100 re f")
    )
    assert pdf_to_lines(str(path)) == []


def test_broken_pdf_raises(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage")
    with pytest.raises(Exception):  # noqa: B017 - pdfminer's own error types; extract_read.py reports them
        pdf_to_lines(str(path))
