"""Header wording and number habits of real reports, read right or flagged, never misplaced.

Each text in tests/fixtures/wording/ shows one habit: years and periods in the header ("Utfall T1
2017", "Utfall 2016", "KF-mål 2017"; also in a text that lost its table layout), columns in another
order, a two-row header, no-break and narrow no-break thousands separators with U+2212 as minus,
footnote markers after names, and a header word the vocabulary does not know.
"""

import shutil
from pathlib import Path

import pytest

from pipeline.common.models import ExtractedText, SourceFile, TextLine
from pipeline.model.normalize import normalize_report
from pipeline.parse.tables import header_columns, parse_report
from pipeline.parse.vocab import strip_footnote_marker

from .build_helpers import query, settings_for

FIXTURES = Path(__file__).parent / "fixtures" / "wording"
MEASURES = ("outcome", "outcome_men", "outcome_women", "previous_outcome", "forecast", "target", "city_target")


def _parsed(name: str):
    path = FIXTURES / name
    lines = [TextLine(None, i, t) for i, t in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)]
    return parse_report(ExtractedText(SourceFile(name, str(path), "0", 0, "txt"), lines))


def _rows(name: str) -> dict[str, dict]:
    """Normalized rows of a fixture by printed name."""
    frame = normalize_report(_parsed(name))
    return {r["indicator_as_printed"]: r for r in frame.iter_rows(named=True)}


def _measures(row: dict) -> tuple:
    return tuple(row[m] for m in MEASURES)


def test_years_in_the_header_of_a_tertial_report():
    rows = _rows("dated_headers_t1_2017.txt")
    welfare = rows["Andel barn som lever i familjer som har ekonomiskt bistånd"]
    # "Utfall T1 2017" is the outcome, "Utfall 2016" last year's annual outcome, "5,79%" without a space
    assert _measures(welfare) == (5.79, None, None, 5.77, 5.6, 5.5, 4.0)
    assert (welfare["previous_label"], welfare["unit"], welfare["quality_flag"]) == ("VB 2016", "%", None)


def test_a_header_year_that_names_no_column_of_ours_is_flagged_not_placed():
    rows = _rows("dated_headers_t1_2017.txt")
    adults = rows["Andel vuxna med långvarigt ekonomiskt bistånd"]
    # "Utfall 2015" (two years back) and "Årsmål 2016" (last year's target) are no columns we load
    assert _measures(adults) == (2.4, None, None, None, None, None, 2.7)
    assert adults["quality_flag"] == "unknown_column"
    assert "3,1 %" in adults["raw_text"] and "2,9 %" in adults["raw_text"]
    jobs = rows["Antal ungdomar som fått sommarjobb i stadens regi"]
    # last year's tertial outcome ("Utfall T1 2016") is not this year's outcome
    assert _measures(jobs) == (None, None, None, None, None, 300.0, None)
    assert jobs["quality_flag"] == "unknown_column"


def test_header_years_against_the_report_year():
    cells = ["Indikator", "Utfall", "Utfall 2016", "KF:s årsmål 2017", "Prognos helår 2017", "Period"]
    assert header_columns(cells, 2017).columns == ("outcome", "previous_outcome", "city_target", "forecast", "period")
    assert header_columns(cells, 2017).previous_label == "VB 2016"
    # in a report of 2016 "Utfall 2016" is the outcome itself, and next year's targets are no column of ours
    assert header_columns(cells, 2016).columns == ("outcome", "outcome", None, None, "period")
    # report year unknown: a dated column cannot be decided
    assert header_columns(cells, 0).columns == ("outcome", None, None, None, "period")


def test_header_tertials_against_the_report_tertial():
    cells = ["Indikator", "Utfall T1 2017", "Utfall tertial 2 2017", "Utfall T2", "Årsmål 2017", "Period"]
    # in a T2 report the T1 outcome is no outcome of its period; in an annual report neither is
    assert header_columns(cells, 2017, 2).columns == (None, "outcome", "outcome", "target", "period")
    assert header_columns(cells, 2017, 1).columns == ("outcome", None, None, "target", "period")
    assert header_columns(cells, 2017, None).columns == (None, None, None, "target", "period")


def test_columns_in_another_order_and_utfall_alone():
    rows = _rows("column_order_vb_2017.txt")
    welfare = rows["Andel barn som lever i familjer som har ekonomiskt bistånd"]
    # KF:s årsmål before Årsmål; "Utfall" alone is the year's outcome, "Utfall 2016" last year's
    assert _measures(welfare) == (5.2, None, None, 5.77, None, 5.5, 4.0)
    assert (welfare["previous_label"], welfare["period"], welfare["quality_flag"]) == ("VB 2016", "2017", None)
    adults = rows["Andel vuxna med långvarigt ekonomiskt bistånd"]
    # Period right after the name
    assert _measures(adults) == (2.4, None, None, None, None, 2.9, 2.7)
    assert (adults["period"], adults["quality_flag"]) == ("2017", None)


def test_two_row_header_below_and_above_the_indikator_line():
    report = _parsed("two_row_header_t1_2019.txt")
    assert len(report.rows) == 2 and not report.warnings
    rows = _rows("two_row_header_t1_2019.txt")
    culture = rows["Andel barn och ungdomar som är nöjda med tillgången till kultur"]
    assert _measures(culture) == (69.7, 63.9, 75.1, None, 70.0, 77.8, 75.0)
    assert (culture["period"], culture["quality_flag"]) == ("Tertial 1 2019", None)
    leisure = rows["Andel elever som är nöjda med fritidsverksamheten"]
    assert _measures(leisure) == (81.0, 79.0, 83.0, None, 80.0, 85.0, 85.0)
    assert leisure["quality_flag"] is None


def test_number_habits():
    text = (FIXTURES / "number_habits_t1_2017.txt").read_text(encoding="utf-8")
    assert "\u202f" in text and "\u00a0" in text and "\u2212" in text  # the habits are really in the fixture
    rows = _rows("number_habits_t1_2017.txt")
    budget = rows["Nämndens budgetavvikelse"]
    # "1 234,5" with U+202F, "−2" and "−1 500" (U+2212, U+00A0)
    assert _measures(budget) == (1234.5, None, None, -2.0, -1500.0, 0.0, 0.0)
    assert (budget["unit"], budget["quality_flag"]) == ("tkr", None)
    welfare = rows["Andel barn som lever i familjer som har ekonomiskt bistånd"]
    assert _measures(welfare) == (5.79, None, None, 5.77, 5.6, 5.5, 4.0)
    assert welfare["unit"] == "%"


def test_footnote_markers_leave_the_name_and_footnotes_are_no_rows():
    report = _parsed("footnotes_t1_2017.txt")
    names = [r.indicator_as_printed for r in report.rows]
    assert names == [
        "Andel elever i årskurs 9 som använder tobak",
        "Andel elever i årskurs 9 som använder alkohol",
        "Andel elever som deltar i kulturskolan (nivå 1)",
    ]
    tobacco = report.rows[0]
    assert (tobacco.cells["outcome"], tobacco.cells["target"], tobacco.quality_flag) == ("12 %", "10 %", None)
    assert tobacco.raw_text.startswith("Andel elever i årskurs 9 som använder tobak 1)\t")


@pytest.mark.parametrize(
    ("printed", "name"),
    [
        ("Andel som använder tobak 1)", "Andel som använder tobak"),
        ("Andel som använder tobak*", "Andel som använder tobak"),
        ("Andel som använder tobak **", "Andel som använder tobak"),
        ("Andel som använder tobak²", "Andel som använder tobak"),
        ("Andel elever (nivå 1)", "Andel elever (nivå 1)"),
        ("Antal elever i årskurs 9", "Antal elever i årskurs 9"),
    ],
)
def test_strip_footnote_marker(printed, name):
    assert strip_footnote_marker(printed) == name


def test_unknown_column_is_flagged_and_its_cell_kept_in_raw_text():
    rows = _rows("unknown_column_t1_2017.txt")
    row = rows["Andel brukare som är nöjda med sitt särskilda boende"]
    # "Jämförelse riket" 71 % goes into no measure, not into the target beside it
    assert _measures(row) == (85.0, None, None, None, None, 90.0, 90.0)
    assert row["quality_flag"] == "unknown_column"
    assert "\t71 %\t" in row["raw_text"]


def test_wording_fixtures_build_into_the_warehouse(tmp_path):
    """The same texts through a whole build: the cells read right land in indicator_values, the
    flagged ones with their flag, and last year's outcome from "Utfall 2016" is an outcome for 2016."""
    from pipeline.cli import run_build

    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES, raw)
    warehouse = tmp_path / "wh" / "w.duckdb"
    ok, _, _ = run_build(settings_for(raw, warehouse))
    assert ok
    rows = query(
        warehouse,
        "select district, indicator_as_printed, outcome, outcome_men, previous_outcome, target, city_target,"
        " quality_flag from indicator_values order by district, row_no",
    )
    assert (
        "Skarpnäck",
        "Andel vuxna med långvarigt ekonomiskt bistånd",
        2.4,
        None,
        None,
        None,
        2.7,
        "unknown_column",
    ) in rows
    assert (
        "Farsta",
        "Andel barn som lever i familjer som har ekonomiskt bistånd",
        5.2,
        None,
        5.77,
        5.5,
        4.0,
        None,
    ) in rows
    assert ("Älvsjö", "Nämndens budgetavvikelse", 1234.5, None, -2.0, 0.0, 0.0, None) in rows
    # the dated headers of a text without table layout
    assert ("Norrmalm", "Andel vuxna med långvarigt ekonomiskt bistånd", 2.4, None, 2.5, 2.9, 2.7, None) in rows
    assert ("Södermalm", "Andel elever i årskurs 9 som använder tobak", 12.0, None, 13.0, 10.0, 10.0, None) in rows
    assert (
        "Bromma",
        "Andel barn och ungdomar som är nöjda med tillgången till kultur",
        69.7,
        63.9,
        None,
        77.8,
        75.0,
        None,
    ) in rows
    assert len(rows) == 16
    previous = query(
        warehouse,
        "select value, value_source from indicator_observations where district = 'Farsta'"
        " and measure = 'outcome' and ref_start = date '2016-01-01' and ref_end = date '2016-12-31'",
    )
    assert previous == [(5.77, "previous_year_column")]


def test_flat_text_judges_header_years_like_a_table_with_its_layout():
    # the same headers as dated_headers_t1_2017.txt, in a text that lost its table layout (each
    # header cell a block of its own, as pdfminer's text gives it): read row by row
    rows = _rows("dated_headers_flat_t1_2017.txt")
    welfare = rows["Andel barn som lever i familjer som har ekonomiskt bistånd"]
    assert _measures(welfare) == (5.79, None, None, 5.77, 5.6, 5.5, 4.0)
    assert (welfare["previous_label"], welfare["unit"], welfare["quality_flag"]) == ("VB 2016", "%", None)
    adults = rows["Andel vuxna med långvarigt ekonomiskt bistånd"]
    assert _measures(adults) == (2.4, None, None, 2.5, 2.6, 2.9, 2.7)
    # "Utfall 2015" and "Årsmål 2016" name no column of ours: nothing is placed, the values stay in raw_text
    young = rows["Andel unga vuxna med ekonomiskt bistånd"]
    assert _measures(young) == (None,) * 7
    assert young["quality_flag"] == "unknown_column" and "1,9 %" in young["raw_text"]


def test_box_flattened_header_pieces_with_dates():
    from pipeline.parse.flat_box_blocks import is_header_piece, region_header

    assert is_header_piece("Utfall T1 2017") and is_header_piece("KF-mål 2017") and not is_header_piece("2017")
    pieces = ["Indikator Utfall", "T1 2017", "Utfall 2016", "Prognos helår 2017", "Årsmål 2017", "KF:s årsmål 2017"]
    header = region_header([*pieces, "Period"], 2017, 1)
    assert header.columns == ("outcome", "previous_outcome", "forecast", "target", "city_target", "period")
    assert header.previous_label == "VB 2016"
    # a T2 report: "Utfall T1 2017" is no outcome of it; the table's values are not placed
    assert None in region_header([*pieces, "Period"], 2017, 2).columns
