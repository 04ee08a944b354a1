"""Reports typeset by headless Chromium (pipeline/bench/html_corpus.py --fixture NAME made f25 and f26;
the tests read the committed PDFs), read by geometry alone, as a user meets them: PDF -> lines -> rows.
test_pdf_layout.py reads both table by table against their .expected.tsv, test_pdf_borderless.py
again without space glyphs.

f25: Chromium's own header style ("Indikator" centred over left-aligned names, every header cell bold
and centred), cells centred vertically, zebra rows shaded cell by cell, a table of 40 rows over three
pages with its header repeated; a reader that starts the name column at "Indikator" finds no row at all.
f26: a ruled grid with a two-row header ("Utfall" over Totalt | Män/pojkar | Kvinnor/flickor, the other
header cells two rows high), Period right after the name; a reader of one band at a time puts the
upper half of "KF:s" / "årsmål" into another column and the city's target into the council's.
"""

import pytest

from pipeline.common.models import ExtractedText, SourceFile
from pipeline.parse.tables import parse_report
from pipeline.pdf import document

from .conftest import PDF_FIXTURES, row_named


def test_f25_every_row_under_a_centred_indikator_header(parsed_pdf):
    report = parsed_pdf("f25_chromium_centred_cells")
    assert len(report.rows) == 43
    assert report.meta.district == "Hässelby-Vällingby" and report.meta.report_type == "tertialrapport_1"
    assert all(r.quality_flag is None for r in report.rows)


def test_f25_minus_signs_and_percent_without_space(parsed_pdf):
    report = parsed_pdf("f25_chromium_centred_cells")
    row = row_named(report, "Mängden matavfall som stadens verksamheter sorterar ut för biologisk behandling")
    assert row.cells == {
        "outcome": "−7,2",
        "outcome_men": "−7,9",
        "outcome_women": "−6,7",
        "previous_outcome": "−7,7",
        "forecast": "−4,5",
        "target": "−7,0",
        "city_target": "",
        "period": "År",
    }
    assert row.previous_label == "VB 2018"
    row = row_named(report, "All personal har grundutbildning")
    assert (row.cells["outcome"], row.cells["previous_outcome"], row.cells["target"]) == ("77%", "75%", "")


def test_f25_rows_after_the_page_break_keep_their_columns(parsed_pdf):
    # page 3, under the header Chromium repeats: an empty outcome stays empty, nothing shifts left
    row = row_named(
        parsed_pdf("f25_chromium_centred_cells"),
        "Andel personer med bostadskontrakt enligt Bostad först som behåller kontraktet efter 12 månader",
    )
    assert (row.cells["outcome"], row.cells["outcome_men"], row.cells["outcome_women"]) == ("", "52,6%", "")
    assert (row.cells["previous_outcome"], row.cells["period"]) == ("56,6%", "Tertial 1 2019")


def test_f26_two_row_ruled_header_names_every_column(parsed_pdf):
    report = parsed_pdf("f26_chromium_ruled_spanning")
    assert len(report.rows) == 34
    row = row_named(report, "Andel barn som lever i familjer som har ekonomiskt bistånd")
    assert row.cells == {
        "outcome": "−1,0",
        "outcome_men": "−0,9",
        "outcome_women": "1,9",
        "previous_outcome": "1,1",
        "forecast": "1,7",
        "target": "0,7",
        "city_target": "1,1",
        "period": "Tertial",
    }
    assert all(r.quality_flag is None for r in report.rows)


def test_f26_period_right_after_the_name(parsed_pdf):
    row = row_named(
        parsed_pdf("f26_chromium_ruled_spanning"), "Andelen barn och unga som upplever ungdomsgårdarna som trygga"
    )
    assert row.cells["period"] == "År"
    assert (row.cells["outcome"], row.cells["forecast"], row.cells["city_target"], row.cells["target"]) == (
        "69",
        "69",
        "61",
        "66",
    )
    assert row.cells["previous_outcome"] == ""


@pytest.mark.parametrize("name", ["f25_chromium_centred_cells", "f26_chromium_ruled_spanning"])
def test_the_drawing_alone_reads_the_cells_the_structure_tree_gives(parsed_pdf, monkeypatch, name):
    """Chromium tags its PDFs, so these are read from the tree; read as if untagged (a badly tagged file
    falls back to the drawing), the geometric reader must find the same rows and cells."""
    path = PDF_FIXTURES / f"{name}.pdf"
    with monkeypatch.context() as patch:
        patch.setattr(document, "tree_tables", lambda path: None)
        lines = document.pdf_to_lines(str(path))
    drawn = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), lines))
    tree = parsed_pdf(name)
    assert [(r.indicator_as_printed, r.cells, r.quality_flag) for r in drawn.rows] == [
        (r.indicator_as_printed, r.cells, r.quality_flag) for r in tree.rows
    ]
