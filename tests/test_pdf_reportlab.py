"""A report typeset by ReportLab's platypus (pipeline/bench/reportlab_corpus.py --fixture NAME made f28; the
tests read the committed PDF), read by geometry: PDF -> lines -> rows.

f28: a table without vertical rules (a rule under each row) whose header cells are right-aligned over
left-aligned values in wide columns, so each column of values stands left of its header, mostly under
no header at all. The gutter nearest each header's start is the space between a value and the next
header word: the old reading put every target into the name column ("Självvärdering utifrån 4,1
läroplansuppdraget avseende"), every city target into the target column, every Period into the city
target's, and split "Tas fram av nämnd" over two cells. test_pdf_layout.py reads it against its
.expected.tsv, test_pdf_borderless.py again without space glyphs.
"""

from pipeline.common.models import ExtractedText, SourceFile
from pipeline.parse.tables import parse_report
from pipeline.pdf import borderless, document

from .conftest import PDF_FIXTURES, row_named

F28 = "f28_reportlab_right_headers_left_values"


def test_f28_left_aligned_values_under_right_aligned_headers(parsed_pdf):
    report = parsed_pdf(F28)
    assert report.meta.district == "Bromma" and report.meta.report_type == "verksamhetsplan"
    assert len(report.rows) == 8
    expected = {
        "Självvärdering utifrån läroplansuppdraget avseende undervisningsmiljöer": ("4,1", "3,6", "Tertial"),
        "Antal vräkningar som beviljats en akutboendelösning på hotell/vandrarhem": ("1", "Tas fram av nämnd", "År"),
        "Antal vräkningar som berör barn": ("Tas fram av nämnd", "", "Halvår"),
        "Omsorgstagarnas upplevelse av trygghet - hemtjänst i ordinärt boende (äldreomsorg)": (
            "73,56 %",
            "77,91 %",
            "År",
        ),
        "Andel upphandlingar där marknaddialog har genomförts": ("82 %", "79 %", "Tertial"),
    }
    for name, values in expected.items():
        row = row_named(report, name)
        assert (row.cells["target"], row.cells["city_target"], row.cells["period"]) == values
        assert row.cells["outcome"] == row.cells["previous_outcome"] == ""
    assert all(r.quality_flag is None for r in report.rows)


def test_f28_the_gutter_next_to_the_header_reads_it_wrong(monkeypatch):
    """Without the gutter left of the values, targets stand in the name column and Period in the city
    target's: the reading this fixture was made to show."""
    path = PDF_FIXTURES / f"{F28}.pdf"
    monkeypatch.setattr(borderless, "gutter_before_values", lambda *args: None)
    lines = document.pdf_to_lines(str(path))
    assert "Självvärdering utifrån 4,1 läroplansuppdraget avseende\t3,6\tTertial\t" in [line.text for line in lines]
    report = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), lines))
    assert not [r for r in report.rows if r.cells.get("target") == "73,56 %"]
