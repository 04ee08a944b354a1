"""Tagged PDFs: tables read from the structure tree (pipeline/pdf/tagged.py, tagged_tables.py), checked
against the geometric reading, one fixture per class (tests/fixtures/make_tagged_pdf_fixtures.py, f19-f22).
Each test asserts real cells; test_pdf_layout.py reads these fixtures line by line too."""

import marshal

import pytest

import pipeline.pdf.document as document
from pipeline.common.models import TextLine
from pipeline.model.normalize import normalize_report
from pipeline.pdf.document import lines_from_pages, pdf_to_lines, read_page
from pipeline.pdf.glyphs import read_raw_pages
from pipeline.pdf.tagged import read_structure, tree_tables
from pipeline.pdf.tagged_tables import STRUCTURE_DISAGREES, holds_whole_table, place_table
from pipeline.report.formats import flag_text
from pipeline.sources.extract_cache import read_cache, write_cache

from .conftest import PDF_FIXTURES as FIXTURE_DIR
from .conftest import row_named
from .pdf_bytes import assemble_pdf

CHROMIUM = "f19_tagged_chromium"
NO_EMPTY_TD = "f20_tagged_headers_no_empty_td"
DISAGREES = "f21_tagged_tree_disagrees"
BADLY_TAGGED = "f22_badly_tagged"
REPEATED_TR = "f23_tagged_repeated_header_row"
WELFARE = "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"


def path_of(name: str) -> str:
    return str(FIXTURE_DIR / f"{name}.pdf")


def tree_reading(name: str, table: int = 0):
    """The tree's own reading of one table of a fixture, before any check against the drawing."""
    space_ems: dict[str, float] = {}
    pages = {}
    for raw in read_raw_pages(path_of(name)):
        page = read_page(raw, space_ems)
        document.lay_out_page(page)
        pages[page.number] = page
    tagged = place_table(read_structure(path_of(name))[table], pages)
    return tagged, pages


def geometric_lines(name: str, monkeypatch) -> list[TextLine]:
    """The lines of a fixture read as if it were not tagged."""
    with monkeypatch.context() as patch:
        patch.setattr(document, "tree_tables", lambda path: None)
        return pdf_to_lines(path_of(name))


# --- Chromium: a table over two pages, its header repeated, empty cells without a TD -------------------


def test_chromium_table_is_read_from_the_tree_with_real_cells(parsed_pdf):
    report = parsed_pdf(CHROMIUM)
    assert len(report.rows) == 26
    welfare = row_named(report, WELFARE)
    assert (welfare.cells["outcome"], welfare.cells["target"], welfare.cells["city_target"]) == ("5,79 %", "5,5 %", "")
    assert welfare.cells["period"] == "Tertial 1 2014" and welfare.source_page == 1
    assert welfare.comment == "Andelen har minskat sedan förra året men målet nås inte."
    # the two-row header: "Utfall" over Totalt | Män/pojkar | Kvinnor/flickor
    maths = row_named(report, "Andel elever i årskurs 9 som når kunskapskraven i matematik")
    assert maths.source_page == 2
    assert [maths.cells[k] for k in ("outcome", "outcome_men", "outcome_women", "target", "city_target")] == [
        "80,1 %",
        "78,2 %",
        "82,3 %",
        "",
        "",
    ]
    places = row_named(report, "Antal praktikplatser för ungdomar")
    assert (places.cells["outcome"], places.cells["target"], places.cells["period"]) == (
        "1 600 st",
        "55 st",
        "Tertial 1 2014",
    )


def test_chromium_writes_no_td_for_an_empty_cell_and_names_each_tds_header():
    tagged, _ = tree_reading(CHROMIUM)
    tree = read_structure(path_of(CHROMIUM))[0]
    first_row = tree.rows[2]  # under the two header rows: name, 5,79 %, 5,5 %, Tertial 1 2014
    assert len(first_row) == 4 and all(cell.headers for cell in first_row)
    assert tagged.rows[2].text() == f"{WELFARE}\t5,79 %\t\t\t5,5 %\t\tTertial 1 2014"


def test_a_header_repeated_on_each_page_is_one_th_read_on_each_page_once():
    tree = read_structure(path_of(CHROMIUM))[0]
    indikator = tree.rows[0][0]
    assert {page for page, _ in indikator.content} == {1, 2}  # one TH, marked content on both pages
    tagged, _ = tree_reading(CHROMIUM)
    assert tagged.rows[0].text() == "Indikator\tUtfall\t\t\tÅrsmål\tKF:s årsmål\tPeriod"
    lines = [line.text for line in pdf_to_lines(path_of(CHROMIUM))]
    assert sum(text.startswith("Indikator") for text in lines) == 1


def test_chromium_rows_agree_with_the_drawing_where_it_reads_them_right(parsed_pdf, monkeypatch):
    """Every row the geometric reading gives alike is unflagged; a row it reads otherwise is flagged and
    loads the tree's cells (the drawing's reading of the row above the page break takes the repeated
    header's words into its cells)."""
    report = parsed_pdf(CHROMIUM)
    geometric = {line.text for line in geometric_lines(CHROMIUM, monkeypatch)}
    for row in report.rows:
        if row.raw_text.split("\n")[0] in geometric:
            assert row.quality_flag is None, row.indicator_as_printed
        else:
            assert row.quality_flag == STRUCTURE_DISAGREES
    teknik = row_named(report, "Andel elever i årskurs 6 som når kunskapskraven i teknik")
    assert [teknik.cells[k] for k in ("outcome", "outcome_men", "outcome_women", "target", "city_target")] == [
        "83,7 %",
        "81,8 %",
        "85,9 %",
        "87 %",
        "Tas fram av nämnd",
    ]


def test_a_header_repeated_as_a_tr_of_its_own_is_read_once_and_each_mcid_on_its_own_page(parsed_pdf):
    tree = read_structure(path_of(REPEATED_TR))[0]
    assert [all(cell.header for cell in row) for row in tree.rows] == [True, False, False, False, True, False, False]
    _, pages = tree_reading(REPEATED_TR)
    (mark,) = tree.rows[5][0].content  # "Sjukfrånvaro", at the top of page 2
    assert mark[0] == 2 and "".join(g.text for g in pages[2].marked[mark[1]]) == "Sjukfrånvaro"
    assert "".join(g.text for g in pages[1].marked[mark[1]]) != "Sjukfrånvaro"  # the same MCID on page 1
    report = parsed_pdf(REPEATED_TR)
    sick = row_named(report, "Sjukfrånvaro")
    assert (sick.source_page, sick.cells["outcome"], sick.cells["target"], sick.cells["city_target"]) == (
        2,
        "6,1 %",
        "5 %",
        "5,5 %",
    )
    parents = row_named(report, "Andel nöjda föräldrar")
    assert (parents.cells["outcome"], parents.cells["target"], parents.cells["period"]) == ("88 %", "90 %", "2014")
    assert [r.table_no for r in report.rows] == [1] * 5 and all(r.quality_flag is None for r in report.rows)
    lines = [line.text for line in pdf_to_lines(path_of(REPEATED_TR))]
    assert sum(text.startswith("Indikator") for text in lines) == 1


# --- written by hand: /Headers on each TD, no TD for an empty cell ------------------------------------


def test_cells_are_placed_by_the_header_they_name_not_by_their_order(parsed_pdf):
    tree = read_structure(path_of(NO_EMPTY_TD))[0]
    assert [len(row) for row in tree.rows] == [5, 4, 3, 3, 5]  # empty cells have no TD
    assert {page for row in tree.rows[1:] for cell in row for page, _ in cell.content} == {1}  # from MCRs
    report = parsed_pdf(NO_EMPTY_TD)
    welfare = row_named(report, WELFARE)
    assert (welfare.cells["outcome"], welfare.cells["target"], welfare.cells["city_target"]) == ("5,79 %", "5,5 %", "")
    cars = row_named(report, "Andel elbilar")
    assert (cars.cells["outcome"], cars.cells["target"], cars.cells["city_target"]) == ("", "", "9 %")
    places = row_named(report, "Antal praktikplatser")
    assert (places.cells["outcome"], places.cells["target"], places.cells["period"]) == ("", "55 st", "2014")
    assert all(row.quality_flag is None for row in report.rows)


def test_a_full_row_without_headers_is_placed_by_its_order_a_short_one_is_not(monkeypatch):
    tagged, _ = tree_reading(NO_EMPTY_TD)
    assert tagged.rows[-1].text() == "Sjukfrånvaro\t6,1 %\t5 %\t5,5 %\tTertial 1 2014"
    tree = read_structure(path_of(NO_EMPTY_TD))[0]
    for cell in tree.rows[2]:
        cell.headers = ()  # "Andel elbilar", "9 %", "2014" with nothing to say where "9 %" stands
    _, pages = tree_reading(NO_EMPTY_TD)
    assert place_table(tree, pages) is None  # not read from the tree: the geometric reading stands


def test_marked_content_named_by_two_cells_is_no_table():
    tree = read_structure(path_of(NO_EMPTY_TD))[0]
    tree.rows[1][2].content = tree.rows[1][1].content + tree.rows[1][2].content  # "5,79 %" in two cells
    _, pages = tree_reading(NO_EMPTY_TD)
    assert place_table(tree, pages) is None


# --- a tree that disagrees with what is drawn ---------------------------------------------------------


def test_a_value_the_tree_and_the_drawing_put_in_different_columns_is_null_and_flagged(parsed_pdf):
    report = parsed_pdf(DISAGREES)
    cars = row_named(report, "Andel elbilar")  # drawn under Årsmål, its TD names KF:s årsmål
    assert cars.quality_flag == STRUCTURE_DISAGREES
    assert (cars.cells["target"], cars.cells["city_target"], cars.cells["period"]) == ("", "", "2014")
    assert cars.raw_text.split("\n") == ["Andel elbilar\t\t\t\t2014", "Andel elbilar\t\t9 %\t\t2014"]
    frame = normalize_report(report).filter(indicator_as_printed="Andel elbilar")
    assert frame["target"].to_list() == [None] and frame["city_target"].to_list() == [None]
    # the fixture has no cover, so its metadata is read from the body and says so too
    assert frame["quality_flag"].to_list() == [f"{STRUCTURE_DISAGREES},metadata_from_body"]


def test_rows_the_drawing_runs_together_load_the_trees_rows_flagged(parsed_pdf):
    report = parsed_pdf(DISAGREES)
    firms, jobs = row_named(report, "Antal nya företag"), row_named(report, "Antal arbetsplatser")
    assert (firms.cells["outcome"], firms.cells["period"]) == ("120 st", "2014")
    assert (jobs.cells["outcome"], jobs.cells["period"]) == ("340 st", "2014")
    assert firms.quality_flag == jobs.quality_flag == STRUCTURE_DISAGREES


def test_a_row_both_readings_agree_on_is_not_flagged(parsed_pdf):
    row = row_named(parsed_pdf(DISAGREES), "Sjukfrånvaro")
    assert (row.cells["outcome"], row.cells["target"], row.cells["city_target"]) == ("6,1 %", "5 %", "5,5 %")
    assert row.quality_flag is None


def test_the_flag_has_a_meaning_for_the_report():
    assert "taggade tabell" in flag_text(STRUCTURE_DISAGREES)


# --- badly tagged: the geometric reading stands ---------------------------------------------------


def test_a_badly_tagged_pdf_reads_as_if_untagged(parsed_pdf, monkeypatch):
    lines = pdf_to_lines(path_of(BADLY_TAGGED))
    assert lines == geometric_lines(BADLY_TAGGED, monkeypatch)
    rows = parsed_pdf(BADLY_TAGGED).rows
    assert [(r.indicator_as_printed, r.cells["outcome"], r.cells["target"], r.cells["city_target"]) for r in rows] == [
        (WELFARE, "5,79 %", "5,5 %", ""),
        ("Andel elbilar", "", "", "9 %"),
    ] * 2
    assert all(row.quality_flag is None for row in rows)


def test_a_table_tagged_as_paragraphs_is_no_table_and_text_outside_marked_content_is_no_whole_table():
    trees = read_structure(path_of(BADLY_TAGGED))
    assert len(trees) == 1  # the table tagged as P elements is not one
    tagged, pages = tree_reading(BADLY_TAGGED)
    assert tagged is not None and not holds_whole_table(tagged, pages)  # "9 %" is in no TD


# --- how it is read -----------------------------------------------------------------------------------


def test_untagged_pdfs_never_read_a_structure_tree(monkeypatch):
    def fail(path):
        raise AssertionError("an untagged PDF's tree was read")

    monkeypatch.setattr(document, "tree_tables", fail)
    lines = pdf_to_lines(str(FIXTURE_DIR / "f01_serif_grid.pdf"))
    assert any(line.text.startswith("Indikator\t") for line in lines)
    assert all(page[7] == [] for page in read_raw_pages(str(FIXTURE_DIR / "f01_serif_grid.pdf")))


def test_a_tagged_pdf_read_in_parts_gives_the_lines_it_gives_read_whole():
    path = path_of(CHROMIUM)
    parts = [list(read_raw_pages(path, 1, 1)), list(read_raw_pages(path, 2, None))]
    pages = [page for part in parts for page in marshal.loads(marshal.dumps(part))]  # as workers hand them on
    assert lines_from_pages(pages, path) == pdf_to_lines(path)


def test_the_extraction_cache_keeps_a_rows_flag_and_other_reading(tmp_path):
    lines = pdf_to_lines(path_of(DISAGREES))
    flagged = [line for line in lines if line.flag]
    assert [line.text.split("\t")[0] for line in flagged] == [
        "Andel elbilar",
        "Antal nya företag",
        "Antal arbetsplatser",
    ]
    entry = tmp_path / "w" / "extract" / "entry.json"
    write_cache(entry, lines)
    assert read_cache(entry) == lines


def test_a_structure_tree_that_loops_or_cannot_be_read_leaves_the_geometric_reading(tmp_path):
    content = b"BT /F1 11 Tf 72 770 Td (Indikator) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /MarkInfo << /Marked true >> /StructTreeRoot 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /StructTreeRoot /K 7 0 R >>",
        b"<< /Type /StructElem /S /Table /K [8 0 R] >>",
        b"<< /Type /StructElem /S /TR /K [7 0 R 9 0 R] >>",  # a row whose kid is its own table
        b"<< /Type /StructElem /S /TD /K [7 0 R] /A 12 >>",
    ]
    path = tmp_path / "loop.pdf"
    path.write_bytes(assemble_pdf(objects))
    (table,) = read_structure(str(path))  # terminates, each element walked once
    assert [[cell.content for cell in row] for row in table.rows] == [[[]]]  # a cell naming no text
    assert place_table(table, {}) is None
    path.write_bytes(assemble_pdf(objects[:5] + [b"<< /Type /StructTreeRoot /K 99 0 R >>"]))
    assert tree_tables(str(path)) == []


@pytest.mark.parametrize("name", [CHROMIUM, NO_EMPTY_TD, DISAGREES, REPEATED_TR])
def test_every_tagged_table_is_read_from_the_tree(name):
    tagged, pages = tree_reading(name)
    assert tagged is not None and holds_whole_table(tagged, pages)
