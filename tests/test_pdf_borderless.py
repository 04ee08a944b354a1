"""Tables without borders on layouts the samples do not have, one fixture per class of layout
(tests/fixtures/make_pdf_fixtures.py, f08-f14), read as a user meets them: PDF -> lines -> parsed rows.
Each test asserts the real cells of the fixture's rows; the old column model failed every one of them.
And the checks that flag a row instead of guessing, on small texts that show one trap each."""


import pytest

from pipeline.common.models import ExtractedText, SourceFile, TextLine
from pipeline.parse.tables import parse_report
from pipeline.pdf.cells import is_broken_word

from .conftest import PDF_FIXTURES as FIXTURE_DIR
from .conftest import row_named


def cells_of(row) -> tuple[str, ...]:
    keys = ("outcome", "previous_outcome", "forecast", "target", "city_target", "period")
    return tuple(row.cells[k] for k in keys)


def test_class1_right_aligned_values_ending_at_the_next_header(parsed_pdf):
    report = parsed_pdf("f08_right_aligned_tight")
    assert len(report.rows) == 5
    row = row_named(report, "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd")
    assert cells_of(row) == ("5,79 %", "5,77 %", "5,6 %", "5,5 %", "4,0 %", "Tertial 1 2014")
    assert cells_of(row_named(report, "Andel dubbdäck")) == ("", "12 %", "", "0 %", "", "2014")
    assert all(r.quality_flag is None for r in report.rows)


def test_class2_header_cells_that_nearly_touch_keep_their_columns(parsed_pdf):
    report = parsed_pdf("f09_touching_header")
    row = row_named(report, "Andel ungdomar som deltar i föreningsliv")
    assert row.cells == {
        "outcome": "58,67 %",
        "outcome_men": "59,66 %",
        "outcome_women": "57,1 %",
        "previous_outcome": "78,18 %",
        "forecast": "80,17 %",
        "target": "82 %",
        "city_target": "96,01 %",
        "period": "Tertial 1 2021",
    }
    assert row.previous_label == "VB 2020"  # the previous-year column is not read as Period
    assert row_named(report, "Andel elbilar").cells["previous_outcome"] == "16 %"


def test_class3_centred_values_that_wrap_stay_in_their_row(parsed_pdf):
    report = parsed_pdf("f10_centred_wrap")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Andel avhysningar som kunnat avvärjas efter inkommet meddelande till förvaltningen från kronofogdemyndigheten",
        "Andel barn och ungdomar som är nöjda med tillgången till kulturaktiviteter",
        "Andel elbilar",
        "Andel meddelanden om avhysning som inkommit till förvaltningen från Kronofogdemyndigheten",
    ]
    first, second, _, last = report.rows
    assert (last.cells["target"], last.cells["city_target"]) == ("72 %", "Tas fram av nämnd och styrelse")
    assert (first.cells["target"], first.cells["city_target"], first.cells["period"]) == (
        "51 %",
        "Tas fram av nämnd",
        "År",
    )
    assert (second.cells["target"], second.cells["city_target"], second.cells["period"]) == (
        "167,12 %",
        "Fastställs 2025",
        "Halvår",
    )


def test_class4_comment_broken_over_a_page_under_a_repeated_header(parsed_pdf):
    report = parsed_pdf("f11_comment_over_page")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd",
        "Sjukfrånvaro",
        "Andel dubbdäck",
        "Andel elever som är nöjda med sin skola som helhet",
    ]
    comment = row_named(report, "Sjukfrånvaro").comment
    assert comment.startswith("Förvaltningens planeringsnivå för 2014")
    assert comment.endswith("antalet bidragshushåll.") and comment.count("Förvaltningens planeringsnivå") == 3
    after = row_named(report, "Andel dubbdäck")
    assert after.source_page == 2 and cells_of(after) == ("", "12 %", "", "0 %", "", "2014")


def test_class5_close_rows_with_right_aligned_values_do_not_merge(parsed_pdf):
    report = parsed_pdf("f12_close_rows")
    assert len(report.rows) == 7
    row = row_named(
        report, "Antal praktikplatser som kan tillhandahållas för de aspiranter som Jobbtorg Stockholm kan matcha"
    )
    assert cells_of(row) == ("38 st", "63 st", "55 st", "55 st", "1600 st", "Tertial 1 2014")
    assert cells_of(row_named(report, "Antal olika personal som berör barn")) == (
        "10",
        "9",
        "9",
        "8",
        "",
        "Tertial 1 2014",
    )


def test_class6_goal_heading_below_a_table_is_a_goal_not_a_row(parsed_pdf):
    report = parsed_pdf("f13_heading_below")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Sjukfrånvaro",
        "Andel elever som är nöjda med sin skola som helhet",
    ]
    goal = report.goals[-1]
    assert (goal.kind, goal.text) == ("namndmal", "Stadsdelens budget ska vara i balans")


def test_class7_words_broken_in_a_narrow_right_aligned_cell_are_joined(parsed_pdf):
    report = parsed_pdf("f14_broken_words")
    assert [r.cells["period"] for r in report.rows] == ["Tertial 1 2023", "2023", "Halvår 1 2023"]
    assert all(r.quality_flag is None for r in report.rows)


# --- checks that flag instead of guessing ---------------------------------------------------------


def _report(text: str, page: int | None = None):
    lines = [TextLine(page, i, t) for i, t in enumerate(text.split("\n"), start=1)]
    return parse_report(ExtractedText(SourceFile("x.txt", "x.txt", "0", 0, "txt"), lines))


COVER = "Tertialrapport 1 2014 för Hässelby-Vällingby stadsdelsnämnd"
HEADER = "Indikator\tPeriodens utfall\tPeriodens utfall VB 2013\tÅrsmål\tKF:s årsmål\tPeriod"


def test_cell_holding_two_numbers_is_flagged_and_kept_as_printed():
    report = _report(f"{COVER}\n{HEADER}\nSjukfrånvaro\t6,9 %\t6,7 % 6,4 %\t6 %\t4,4 %\tTertial 1 2014")
    row = report.rows[0]
    assert row.quality_flag == "two_values_in_cell" and row.cells["previous_outcome"] == "6,7 % 6,4 %"
    dash = _report(f"{COVER}\n{HEADER}\nSjukfrånvaro\t6,9 %\t- 70,6\t6 %\t4,4 %\tTertial 1 2014").rows[0]
    assert dash.quality_flag == "two_values_in_cell"
    one = _report(f"{COVER}\n{HEADER}\nAntal\t1 123 st\t9 000 st\t2 % relativt 2018\t\tTertial 1 2014").rows[0]
    assert one.quality_flag is None


def test_period_cell_that_is_not_a_period_is_flagged():
    row = _report(f"{COVER}\n{HEADER}\nSjukfrånvaro\t6,9 %\t6,7 %\t6 %\t4,4 %\tTertia l 1 2014").rows[0]
    assert row.quality_flag == "not_a_period"


def test_header_with_a_duplicated_or_missing_column_flags_its_rows():
    duplicated = "Indikator\tPeriodens utfall\tPeriodens utfall\tÅrsmål\tPeriod"
    row = _report(f"{COVER}\n{duplicated}\nSjukfrånvaro\t6,9 %\t6,7 %\t6 %\t2014").rows[0]
    assert row.quality_flag == "duplicate_column" and row.cells["outcome"] == "6,9 %"
    no_period = "Indikator\tPeriodens utfall\tÅrsmål"
    assert _report(f"{COVER}\n{no_period}\nSjukfrånvaro\t6,9 %\t6 %").rows[0].quality_flag == "no_period_column"


def test_indicator_header_without_rows_is_a_warning_with_its_page():
    goal = "Nämndmål:\nStadsdelens budget ska vara i balans"
    text = f"{COVER}\n{HEADER}\n\n{goal}\n{HEADER}\nSjukfrånvaro\t6,9 %\t\t\t\t2014"
    report = _report(text, page=3)
    assert report.warnings == ["line 2 of page 3: indicator table header with no rows under it"]
    assert [r.indicator_as_printed for r in report.rows] == ["Sjukfrånvaro"]


def test_a_whole_word_then_a_number_on_the_next_line_is_two_words():
    # "Tertial" / "2 2021" in a narrow cell whose dropped space did not fit: not "Tertial2 2021";
    # "Periode" / "ns" is still one word broken in the cell
    vocabulary = {"tertial", "periodens"}
    assert not is_broken_word("Tertial", "2", vocabulary)
    assert not is_broken_word("Halvår", "1", vocabulary | {"halvår"})
    assert is_broken_word("Periode", "ns", vocabulary)


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURE_DIR.glob("f*.pdf")))
def test_same_cells_from_a_producer_that_draws_no_space_glyphs(monkeypatch, parsed_pdf, name):
    """Some producers position words without any space glyph: the same PDF without them must give
    the same rows and cells (nothing may rest on one producer's habit)."""
    import pipeline.pdf.document as layout

    expected = parsed_pdf(name)  # read with the space glyphs, before the patch
    read_page = layout.read_page

    def without_spaces(raw, space_ems, *document):
        page = read_page(raw, space_ems, *document)
        page.glyphs = [glyph for glyph in page.glyphs if not glyph.is_space]
        return page

    monkeypatch.setattr(layout, "read_page", without_spaces)
    path = FIXTURE_DIR / f"{name}.pdf"
    lines = layout.pdf_to_lines(str(path))
    report = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), lines))
    assert [(r.indicator_as_printed, r.cells) for r in report.rows] == [
        (r.indicator_as_printed, r.cells) for r in expected.rows
    ]


def _straddle_pdf(path) -> None:
    """A table without borders whose forecast, centred and wrapped, is wider than its column: its first
    line "1,7 kg CO2 per kg" reaches well into the previous-year column on its left."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    canvas, size = Canvas(str(path), pagesize=(842, 595)), 9
    canvas.setFont("Helvetica", size)
    # column starts: name, outcome, previous outcome, forecast, target, period
    starts = [40, 300, 380, 460, 540, 620]
    header = ["Indikator", "Periodens utfall", "Utfall 2013", "Prognos helår", "Årsmål", "Period"]
    for x, word in zip(starts, header, strict=True):
        canvas.drawString(x, 500, word)
    rows = [(f"Andel dubbdäck {n}", ["12 %", "13 %", "11 %", "10 %", "Tertial 1 2014"]) for n in range(1, 13)]
    rows[6:6] = [
        ("Klimatpåverkan från livsmedel", ["1,8 kg", "1,9 kg", None, "1,6 kg", "Tertial 1 2014"]),
        ("Sjukfrånvaro", ["6,9 %", "6,7 %", "6,4 %", "6 %", "Tertial 1 2014"]),
    ]
    y = 480
    for name, values in rows:
        canvas.drawString(starts[0], y, name)
        for x, value in zip(starts[1:], values, strict=True):
            if value is not None:
                canvas.drawString(x, y, value)
        if values[2] is None:  # centred in the forecast column (460..540), wrapped over two lines
            centre = 462
            for dy, text in ((0, "1,7 kg CO2 per kg"), (-11, "livsmedel")):
                canvas.drawString(centre - stringWidth(text, "Helvetica", size) / 2, y + dy, text)
            y -= 11
        y -= 20
    canvas.save()


def test_a_value_lying_across_a_column_bound_is_flagged_and_not_loaded(tmp_path):
    from pipeline.pdf.document import pdf_to_lines

    path = tmp_path / "straddle.pdf"
    _straddle_pdf(path)
    report = parse_report(ExtractedText(SourceFile(str(path), path.name, "0", 0, "pdf"), pdf_to_lines(str(path))))
    row = row_named(report, "Klimatpåverkan från livsmedel")
    assert row.quality_flag == "straddles_columns"
    # "1,7" stood left of the bound, under the previous-year column: neither column is loaded
    assert row.cells["previous_outcome"] == row.cells["forecast"] == ""
    assert (row.cells["outcome"], row.cells["target"], row.cells["period"]) == ("1,8 kg", "1,6 kg", "Tertial 1 2014")
    assert "1,7" in row.raw_text and "1,9 kg" in row.raw_text
    # the rows around it are read whole and unflagged
    assert cells_of(row_named(report, "Sjukfrånvaro")) == ("6,9 %", "6,7 %", "6,4 %", "6 %", "", "Tertial 1 2014")
    assert all(r.quality_flag is None for r in report.rows if r is not row)
