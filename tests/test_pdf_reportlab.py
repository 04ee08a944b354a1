"""A report typeset by ReportLab's platypus (pipeline/bench/reportlab_corpus.py --fixture NAME made f28; the
tests read the committed PDF), read by geometry: PDF -> lines -> rows.

f28: a table without vertical rules (a rule under each row, zebra rows) whose header cells are
right-aligned over left-aligned values, cells aligned to the bottom. The gutter nearest each header's
start is the empty space between a value and the next header word: the old reading put every target
into the name column ("som god 65,54 %"), every city target into the target column and every Period
into the city target's, and the report was held back for units "Tertial" and "Halvår".
test_pdf_layout.py reads it against its .expected.tsv, test_pdf_borderless.py again without space glyphs.
"""

from pipeline.common.models import ExtractedText, SourceFile
from pipeline.parse.tables import parse_report
from pipeline.pdf import borderless, document

from .conftest import PDF_FIXTURES, row_named

F28 = "f28_reportlab_right_headers_left_values"


def test_f28_left_aligned_values_under_right_aligned_headers(parsed_pdf):
    report = parsed_pdf(F28)
    assert report.meta.district == "Kungsholmen" and report.meta.report_type == "verksamhetsplan"
    assert len(report.rows) == 9
    expected = {
        "Andel ungdomar som i stockholmsenkäten skattar sin hälsa som god": ("65,54 %", "Tas fram av nämnd", "År"),
        "Andel enskilda som erbjuds heltid": ("48,47", "52,11", "År"),
        "Andel nöjda föräldrar till barn i förskolan": ("84,3 %", "-", "Tertial"),
        "Antal ungdomar som fått sommarjobb i stadens regi": ("688 st", "tas fram av nämnden", "Tertial"),
        "Andel barn och ungdomar som är nöjda med tillgången till kulturaktiviteter": ("63,9 %", "", "År"),
    }
    for name, values in expected.items():
        row = row_named(report, name)
        assert (row.cells["target"], row.cells["city_target"], row.cells["period"]) == values
        assert row.cells["outcome"] == row.cells["previous_outcome"] == ""
    assert all(r.quality_flag is None for r in report.rows)


def test_f28_the_gutter_next_to_the_header_reads_it_wrong(monkeypatch):
    """Without the gutter left of the values, the target stands in the name column and Period in the
    city target's: the reading this fixture was made to show."""
    path = PDF_FIXTURES / f"{F28}.pdf"
    monkeypatch.setattr(borderless, "gutter_before_values", lambda *args: None)
    lines = document.pdf_to_lines(str(path))
    texts = [line.text for line in lines]
    assert "som god 65,54 %\t\tTas fram av nämnd År\t" in texts
    report = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), lines))
    assert not [r for r in report.rows if r.cells.get("target") == "65,54 %"]
