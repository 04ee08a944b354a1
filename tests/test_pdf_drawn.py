"""Tables as HTML/CSS typesetters lay them out, one fixture per class (tests/fixtures/make_drawn_pdf_fixtures.py,
f15-f18), read as a user meets them: PDF -> lines -> parsed rows. Each test asserts real cells; a reader
that takes the header from the "Indikator" line alone reads neither f15's nor f16's header, and f16's rows
not at all. The tests of
test_pdf_layout.py (every table line by line) and test_pdf_borderless.py (the same cells without space
glyphs) read these fixtures too."""



from pipeline.pdf.document import Page, build_page_items, lay_out_page, pdf_to_lines, read_page
from pipeline.pdf.drawing import Drawing
from pipeline.pdf.glyphs import read_raw_pages

from .conftest import PDF_FIXTURES as FIXTURE_DIR
from .conftest import row_named


def page_of(name: str) -> Page:
    page = read_page(next(read_raw_pages(str(FIXTURE_DIR / f"{name}.pdf"))), {})
    lay_out_page(page)
    return page


def test_class1_centred_header_over_wider_right_aligned_values(parsed_pdf):
    report = parsed_pdf("f15_centred_header_over_right_values")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Administrationens andel av de totala kostnaderna",
        "Andel dubbdäck",
        "Antal praktikplatser för de aspiranter som Jobbtorg Stockholm kan matcha",
        "Sjukfrånvaro",
    ]
    row = row_named(report, "Antal praktikplatser för de aspiranter som Jobbtorg Stockholm kan matcha")
    assert row.cells["city_target"] == "1 600 st" and row.cells["target"] == "55 st"
    assert row.previous_label == "VB 2013"
    assert all(r.quality_flag is None for r in report.rows)


def test_class3_value_filling_its_cell_up_to_the_next_columns_text(parsed_pdf):
    # "3" ends two paddings before "Tas fram av" / "nämnd": the council's target is 3, the city's a text
    row = row_named(
        parsed_pdf("f15_centred_header_over_right_values"), "Administrationens andel av de totala kostnaderna"
    )
    assert (row.cells["forecast"], row.cells["target"], row.cells["city_target"]) == ("3", "3", "Tas fram av nämnd")
    dubb = row_named(parsed_pdf("f15_centred_header_over_right_values"), "Andel dubbdäck")
    assert (dubb.cells["outcome"], dubb.cells["previous_outcome"], dubb.cells["target"]) == ("", "12 %", "0 %")
    assert dubb.cells["city_target"] == "tas fram av nämnden"


def test_class1_the_rule_drawn_cell_by_cell_gives_the_columns():
    page = page_of("f15_centred_header_over_right_values")
    drawing = Drawing(page.horizontals, page.boxes)
    header = next(line for line in page.body if line.text.startswith("Indikator"))
    edges = drawing.cell_edges(header.top - 30, header.bottom, header.x0, 560, reach=header.size)
    assert len(edges) == 6  # seven cells


def test_class2_header_cells_of_different_heights(parsed_pdf):
    report = parsed_pdf("f16_stacked_header")
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
    assert row.previous_label == "VB 2020"


def test_class2_a_row_whose_values_stand_above_its_name(parsed_pdf):
    # vertically centred cells: "Tas fram" / "av" / "nämnd" starts a line above "Andel elbilar"
    report = parsed_pdf("f16_stacked_header")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Andel ungdomar som deltar i föreningsliv",
        "Andel elbilar",
        "Antal vräkningar som berör barn",
    ]
    elbilar = row_named(report, "Andel elbilar")
    assert (elbilar.cells["previous_outcome"], elbilar.cells["target"], elbilar.cells["city_target"]) == (
        "16 %",
        "9 %",
        "Tas fram av nämnd",
    )
    assert row_named(report, "Antal vräkningar som berör barn").cells["outcome"] == "1"


def test_class5_zebra_rows_and_shaded_comments(parsed_pdf):
    report = parsed_pdf("f17_shaded_rows")
    assert [r.indicator_as_printed for r in report.rows] == [
        "Antal barn per grupp",
        "Maten smakar bra - Vård och omsorgsboende (äldreomsorg)",
        "Andel medarbetare som inte upplever diskriminering",
        "Antal tillhandahållna platser för Stockholmsjobb",
    ]
    maten = row_named(report, "Maten smakar bra - Vård och omsorgsboende (äldreomsorg)")
    assert (maten.cells["target"], maten.cells["city_target"], maten.cells["period"]) == (
        "62,7 %",
        "Tas fram av nämnd",
        "Tertial",
    )
    assert maten.comment == "Arbetet med att genomföra beslutade åtgärder inom ramen för RSA pågår."
    last = row_named(report, "Antal tillhandahållna platser för Stockholmsjobb")
    assert (last.cells["target"], last.cells["city_target"], last.cells["period"]) == ("64 st", "-", "Tertial")


def test_class5_shaded_boxes_are_read_as_drawing():
    page = page_of("f17_shaded_rows")
    assert len(page.boxes) >= 4 + 4  # the header's cells and a zebra row's cells
    items_before = build_page_items(page, None)
    assert items_before is not None  # the table is open at the foot of the page


def test_two_row_header_with_utfall_centred_over_total_men_women(parsed_pdf):
    # "Utfall" stands over three columns, so it is read as a line of its own above "Indikator"
    lines = [line.text for line in pdf_to_lines(str(FIXTURE_DIR / "f18_spanning_header.pdf"))]
    assert lines[lines.index("Utfall") + 1].startswith("Indikator\tTotalt\tMän/pojkar\t")
    report = parsed_pdf("f18_spanning_header")
    row = row_named(report, "Andel barn och ungdomar som är nöjda med tillgången till kultur")
    assert row.cells == {
        "outcome": "69,7 %",
        "outcome_men": "63,9 %",
        "outcome_women": "75,1 %",
        "previous_outcome": "",
        "forecast": "70 %",
        "target": "77,8 %",
        "city_target": "75 %",
        "period": "Tertial 1 2019",
    }
    cars = row_named(report, "Andel elbilar")
    assert (cars.cells["outcome"], cars.cells["target"], cars.cells["city_target"]) == ("", "9 %", "Tas fram av nämnd")
    assert all(r.quality_flag is None for r in report.rows) and not report.warnings


def test_two_row_header_in_a_ruled_grid(parsed_pdf):
    # "KF:s" / "årsmål" centred across both header rows: one cell, the city's target, not "årsmål" alone
    report = parsed_pdf("f24_ruled_two_row_header")
    row = row_named(report, "Andel barn och ungdomar som är nöjda med tillgången till kultur")
    assert row.cells == {
        "outcome": "69,7 %",
        "outcome_men": "63,9 %",
        "outcome_women": "75,1 %",
        "previous_outcome": "68,2 %",
        "forecast": "",
        "target": "77,8 %",
        "city_target": "75 %",
        "period": "Tertial 1 2019",
    }
    assert row.previous_label == "VB 2018"
    elbilar = row_named(report, "Andel elbilar")
    assert (elbilar.cells["outcome"], elbilar.cells["outcome_men"], elbilar.cells["city_target"]) == (
        "8 %",
        "",
        "Tas fram av nämnd",
    )


def test_class4_letter_spacing_measured_per_document(parsed_pdf):
    # 0.14 em between all letters: wider than a fixed 0.12 em word gap, narrower than the word gaps
    # the document itself shows (test_pdf_borderless.py reads it again without space glyphs)
    report = parsed_pdf("f27_letter_spaced")
    row = row_named(report, "Andel barn som lever i familjer som har ekonomiskt bistånd")
    assert (row.cells["outcome"], row.cells["target"], row.cells["city_target"]) == ("5,79 %", "5,5 %", "4,0 %")
    assert row_named(report, "Antal barn per grupp").cells["city_target"] == "Tas fram av nämnd"


def test_letter_gaps_are_measured_per_font():
    from pipeline.pdf.lines import LetterGaps

    gaps = LetterGaps()
    # "Ab" then "cd" in a font spaced 1.4 pt at 10 pt, and "ef" in one without spacing
    chars = [
        ("A", "S", 0.0, 6.0, 0.0, 10.0, 10.0),
        ("b", "S", 7.4, 12.0, 0.0, 10.0, 10.0),
        ("c", "S", 13.4, 18.0, 0.0, 10.0, 10.0),
        ("e", "P", 0.0, 5.0, 20.0, 30.0, 10.0),
        ("f", "P", 5.0, 8.0, 20.0, 30.0, 10.0),
    ]
    gaps.measure(chars)
    assert gaps.tracking_em == {"S": 0.14, "P": 0.0}
