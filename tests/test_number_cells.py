"""A cell that is not exactly one number is published as NULL and flagged, never as its leading digits.

Built for real: sample 004 with its sick-leave outcome printed "0.45", and a small Farsta report whose
rows each carry one cell the review found read as a guess, plus a row continued after a page break.
"""

import pytest

from pipeline.cli import run_build
from pipeline.report.formats import flag_text

from .build_helpers import REPORT_HEADER, make_raw, query, sample_name, settings_for, write_t1_report

SICK_LEAVE_ROW = " Sjukfrånvaro\t5,7 %\t6 %\t6 %\t4,4 %\tVB 2013"
FARSTA = "farsta_t1_2015.txt"
BAD_CELLS = {  # name -> (outcome cell, the flag it must carry)
    "Antal punkt": ("0.45", "unreadable_number"),
    "Antal tusental med punkt": ("1.234 kr", "unreadable_number"),
    "Antal intervall": ("12-15", "unreadable_number"),
    "Antal kvot": ("5/10", "unreadable_number"),
    "Antal årtal": ("2019/2020", "unreadable_number"),
    "Andel två procenttal": ("3 %  4 %", "two_values_in_cell"),
    "Andel streck och tal": ("- 70,6", "two_values_in_cell"),
    "Andel två värden": ("57,48 % 63,52 %", "two_values_in_cell"),
}
GOOD_CELLS = {  # name -> (outcome cell, value, unit)
    "Andel procent": ("5,79 %", 5.79, "%"),
    "Antal smalt mellanrum": ("1\u202f234,5", 1234.5, None),
    "Antal minus": ("\u22122", -2.0, None),
    "Andel med fotnot": ("12 %*", 12.0, "%"),  # a footnote marker after the value is no part of it
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    raw = make_raw(tmp_path_factory.mktemp("numbers") / "raw", "004")
    path = raw / sample_name("004")
    text = path.read_text(encoding="utf-8")
    assert SICK_LEAVE_ROW in text
    path.write_text(text.replace(SICK_LEAVE_ROW, SICK_LEAVE_ROW.replace("5,7 %", "0.45")), encoding="utf-8")
    rows = [f" {name}\t{cell}\t\t\t\t\tTertial 1 2015" for name, (cell, _) in BAD_CELLS.items()]
    rows += [f" {name}\t{cell}\t\t\t\t\tTertial 1 2015" for name, (cell, _, _) in GOOD_CELLS.items()]
    rows += [" Andel med fotnoter\t12 %*\t11 %¹\t\t10 %\t10 % 1)\tTertial 1 2015"]
    # a page break inside a row: the header again, then "varav flickor" with values of its own
    rows += [" Antal barn i förskola\t12\t300\t\t\t\tTertial 1 2015", "", REPORT_HEADER.format(prev=2014)]
    rows += ["varav flickor\t345\t150\t\t\t\t"]
    write_t1_report(raw / FARSTA, "Farsta", 2015, rows)
    settings = settings_for(raw, raw.parent / "wh" / "indicators.duckdb")
    ok, _, errors = run_build(settings)
    assert ok and not errors
    return settings.warehouse


def _published(wh, report_file: str, name: str) -> list[tuple]:
    return query(
        wh,
        "select v.outcome, v.unit, v.quality_flag, f.outcome_text from indicator_values v "
        "join fact_indicator_value f using (report_key, row_no) "
        "where v.report_file = ? and v.indicator_as_printed = ?",
        report_file,
        name,
    )


def test_a_decimal_point_is_not_read_as_zero_with_unit_45(warehouse):
    assert _published(warehouse, sample_name("004"), "Sjukfrånvaro") == [(None, "%", "unreadable_number", "0.45")]


@pytest.mark.parametrize("name", list(BAD_CELLS))
def test_a_cell_that_is_not_one_number_is_published_null_and_flagged(warehouse, name):
    cell, flag = BAD_CELLS[name]
    [(outcome, _, quality_flag, text)] = _published(warehouse, FARSTA, name)
    assert (outcome, quality_flag, text) == (None, flag, " ".join(cell.split()))  # as printed, spaces folded


@pytest.mark.parametrize("name", list(GOOD_CELLS))
def test_one_number_in_a_known_form_is_published(warehouse, name):
    cell, value, unit = GOOD_CELLS[name]
    assert _published(warehouse, FARSTA, name) == [(value, unit, None, " ".join(cell.split()))]


def test_footnote_markers_after_values_are_no_units(warehouse):
    # "12 %*", "11 %¹" and "10 % 1)" beside "10 %": one unit, no mixed_units flag
    [row] = query(
        warehouse,
        "select outcome, previous_outcome, unit, quality_flag from indicator_values "
        "where report_file = ? and indicator_as_printed = 'Andel med fotnoter'",
        FARSTA,
    )
    assert row == (12.0, 11.0, "%", None)


def test_a_row_continued_after_a_page_break_keeps_its_own_values(warehouse):
    got = query(
        warehouse,
        "select outcome, previous_outcome, quality_flag from indicator_values where report_file = ? "
        "and indicator_as_printed like 'Antal barn i förskola%'",
        FARSTA,
    )
    assert got == [(12.0, 300.0, "continuation_conflict")]  # not 12345 and 300150


def test_the_quality_page_says_in_swedish_what_each_flag_means(warehouse):
    flags = {f for (f,) in query(warehouse, "select distinct quality_flag from indicator_values") if f}
    assert flags == {"unreadable_number", "two_values_in_cell", "continuation_conflict"}
    assert flag_text("two_values_in_cell,continuation_conflict") == (
        "två kolumners värden har flutit ihop i en cell; värdet lämnas tomt; radens fortsättning efter "
        "sidbrytningen hade värden där raden redan hade värden; de fogades inte ihop"
    )
    assert all(flag_text(f) != f for f in flags)
