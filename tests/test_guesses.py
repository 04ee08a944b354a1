"""Never a guessed period or unit, never a guess that no row shows.

One real build: sample 004 (Östermalm's annual report 2013) with Period cells "T1 2013", "Tertial 2013"
and "Halvår 2013"; sample 003 (Rinkeby-Kista's plan 2020) beside an annual report of the same year
named so its file sorts first; sample 002 (typed from its body, no cover); a Farsta report whose rows
of one indicator print "%" and "st" equally often and one prints no unit.
"""

from datetime import date
from types import SimpleNamespace

import duckdb
import pytest

from pipeline.cli import run_build
from pipeline.common.models import ReportMeta
from pipeline.common.paths import SQL_DIR
from pipeline.common.periods import is_unreadable_period, looks_like_period, parse_period_cell
from pipeline.parse.vocab import is_period_like
from pipeline.warehouse.validate import keep_one_report_per_scope

from .build_helpers import REPORT_HEADER, make_raw, query, sample_name, settings_for, write_t1_report

ANNUAL = sample_name("004")
T1_ROW = "Andel personer beroende av ekonomiskt bistånd i förhållande till befolkningen"  # 0,38 %
NO_TERTIAL_ROW = "Andel vuxna som har ett långvarigt beroende av ekonomiskt bistånd jämfört med samtliga vuxna invånare"
NO_HALF_ROW = "Andel personer med socialmedicinska rehabiliteringsskäl som går till egen eller annan försörjning"
RINKEBY_VB = "000_rinkeby_vb_2020.txt"  # sorts before the plan's file: the name must not decide
CHILDREN = "Andel barn som lever i familjer som har ekonomiskt bistånd"
FARSTA = "farsta_t1_2015.txt"
COVERLESS = "000_farsta_no_cover.txt"  # sorts first and has more rows: neither may decide

# --- the grammar, and the SQL checks that read what it made --------------------------------------

CASES = {  # cell -> (kind, year, number, start, end)
    "Tertial 1 2014": ("tertial", 2014, 1, date(2014, 1, 1), date(2014, 4, 30)),
    "T1 2013": ("tertial", 2013, 1, date(2013, 1, 1), date(2013, 4, 30)),
    "T2 2013": ("tertial", 2013, 2, date(2013, 1, 1), date(2013, 8, 31)),
    "Halvår 1 2014": ("half_year", 2014, 1, date(2014, 1, 1), date(2014, 6, 30)),
    "Kvartal 3 2014": ("quarter", 2014, 3, date(2014, 7, 1), date(2014, 9, 30)),
    "VB 2013": ("year", 2013, None, date(2013, 1, 1), date(2013, 12, 31)),
    "2019": ("year", 2019, None, date(2019, 1, 1), date(2019, 12, 31)),
    "År 2019": ("year", 2019, None, date(2019, 1, 1), date(2019, 12, 31)),
    "Tertial": ("frequency", None, None, None, None),
    "År": ("frequency", None, None, None, None),
    "Tertial 2014": ("unknown", None, None, None, None),
    "Halvår 2014": ("unknown", None, None, None, None),
    "Månad 2014": ("unknown", None, None, None, None),
    "Tertial 4 2014": ("unknown", None, None, None, None),
}
SHAPED_UNREAD = ("Tertial 2014", "Halvår 2014", "Månad 2014")


@pytest.mark.parametrize("cell", list(CASES))
def test_the_one_period_grammar_reads_each_cell(cell):
    p = parse_period_cell(cell)
    assert (p.kind, p.year, p.number, p.start, p.end) == CASES[cell]
    # what looks like a period and what is read are one grammar: the parsers ask the same module
    assert is_period_like(cell) == looks_like_period(cell)
    assert is_unreadable_period(cell) == (CASES[cell][0] == "unknown")


def test_a_cell_shaped_like_a_period_that_does_not_parse_is_unreadable_not_someone_elses_period():
    for cell in SHAPED_UNREAD:
        assert looks_like_period(cell) and is_unreadable_period(cell)
    assert not looks_like_period("Tertia l 2014") and is_unreadable_period("Tertia l 2014")
    assert not is_unreadable_period("") and not is_unreadable_period(None)


def test_the_sql_checks_read_the_grammars_periods_on_the_same_cases():
    """sql/checks/_prelude.sql does not read Period cells again: its year and tertial are those the
    grammar gave, for every case (a cell the grammar does not read names no year there either)."""
    con = duckdb.connect()
    con.execute(
        "create table fact_indicator_value (report_key varchar, row_no int, period varchar, period_kind varchar, "
        "period_start date, period_end date)"
    )
    con.execute("create table dim_report (report_key varchar, report_type varchar, year int, tertial int)")
    con.execute("insert into dim_report values ('r', 'tertialrapport_2', 2014, 2)")
    for i, cell in enumerate(CASES):
        p = parse_period_cell(cell)
        con.execute("insert into fact_indicator_value values ('r', ?, ?, ?, ?, ?)", [i, cell, p.kind, p.start, p.end])
    con.execute((SQL_DIR / "checks" / "_prelude.sql").read_text(encoding="utf-8"))
    rows = con.execute("select period, period_year, period_tertial from fact_periods").fetchall()
    got = {cell: (year, tertial) for cell, year, tertial in rows}
    for cell, (kind, year, number, _, _) in CASES.items():
        named_year = year if kind in ("tertial", "half_year", "quarter", "year") else None
        assert got[cell] == (named_year, number if kind == "tertial" else None), cell
    assert "regexp" not in (SQL_DIR / "checks" / "_prelude.sql").read_text(encoding="utf-8")


# --- a real build ----------------------------------------------------------------------------


def _vb_2020(path):
    path.write_text(
        "\n".join(
            [
                "Verksamhetsberättelse 2020 för Rinkeby-Kista stadsdelsnämnd",
                "",
                "Indikator\tPeriodens utfall\tPeriodens utfall VB 2019\tÅrsmål\tKF:s årsmål\tPeriod",
                f" {CHILDREN}\t7,5 %\t8,1 %\t7 %\t2,7 %\t2020",
            ]
        )
        + "\n",
        encoding="utf-8",
    )


def _coverless_farsta(path):
    """No cover: council and period only in the body, more rows than the real T1 2015 of Farsta."""
    rows = [f" Antal testenheter\t{n} st\t\t\t\t\tTertial 1 2015" for n in (101, 102, 103, 104, 105, 106)]
    path.write_text(
        "\n".join(
            [
                "Sammanfattande analys",
                "",
                "Farsta stadsdelsnämnd redovisar sitt arbete.",
                "",
                REPORT_HEADER.format(prev=2014),
                *rows,
            ]
        )
        + "\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    raw = make_raw(tmp_path_factory.mktemp("guesses") / "raw", "002", "003", "004")
    annual = raw / ANNUAL
    lines = annual.read_text(encoding="utf-8").split("\n")
    changed = 0
    for i, line in enumerate(lines):
        for name, cell in ((T1_ROW, "T1 2013"), (NO_TERTIAL_ROW, "Tertial 2013"), (NO_HALF_ROW, "Halvår 2013")):
            if name in line and line.endswith("\tVB 2013"):
                lines[i] = line.removesuffix("VB 2013") + cell
                changed += 1
    assert changed == 3
    annual.write_text("\n".join(lines), encoding="utf-8")
    _vb_2020(raw / RINKEBY_VB)
    rows = [
        " Antal testenheter\t7 st\t\t\t\t\tTertial 1 2015",
        " Antal testenheter\t5 %\t\t\t\t\tTertial 1 2015",
        " Antal testenheter\t9\t\t\t\t\tTertial 1 2015",
        " Antal testenheter i grupp\t9\t\t\t\t\tTertial 1 2015",
    ]
    write_t1_report(raw / FARSTA, "Farsta", 2015, rows)
    _coverless_farsta(raw / COVERLESS)
    settings = settings_for(raw, raw.parent / "wh" / "indicators.duckdb")
    ok, summary, _ = run_build(settings)
    assert ok
    return settings.warehouse, summary


def _row(wh, report_file, name):
    [row] = query(
        wh,
        "select row_no, outcome, period, period_kind, quality_flag, unit from indicator_values "
        "where report_file = ? and starts_with(indicator_as_printed, ?)",
        report_file,
        name,
    )
    return row


def _outcomes_of_row(wh, report_file, row_no):
    return query(
        wh,
        "select value, ref_start, ref_end from indicator_observations o join dim_report r using (report_file) "
        "where report_file = ? and measure = 'outcome' and value_source = 'reported' and o.ref_start is not null "
        "and (select row_no from fact_indicator_value f where f.report_key = r.report_key and f.source_page "
        "is not distinct from o.source_page and f.source_line = o.source_line) = ?",
        report_file,
        row_no,
    )


def test_a_t1_cell_in_an_annual_report_is_published_under_t1_never_the_full_year(warehouse):
    wh, _ = warehouse
    row_no, outcome, period, kind, flag, _ = _row(wh, ANNUAL, T1_ROW)
    assert (outcome, period, kind, flag) == (0.38, "T1 2013", "tertial", None)
    assert _outcomes_of_row(wh, ANNUAL, row_no) == [(0.38, date(2013, 1, 1), date(2013, 4, 30))]
    series = query(
        wh,
        "select ref_period, outcome from indicator_series where district_code = 'ostermalm' "
        "and indicator_key = (select indicator_key from fact_indicator_value where indicator_as_printed = ?) "
        "order by ref_start, ref_end",
        T1_ROW,
    )
    assert ("2013-T1", 0.38) in series and ("2013", 0.38) not in series


@pytest.mark.parametrize("name, cell", [(NO_TERTIAL_ROW, "Tertial 2013"), (NO_HALF_ROW, "Halvår 2013")])
def test_a_period_cell_that_does_not_parse_flags_its_row_and_files_its_outcome_under_no_period(warehouse, name, cell):
    wh, _ = warehouse
    row_no, outcome, period, kind, flag, _ = _row(wh, ANNUAL, name)
    assert (period, kind, flag) == (cell, "unknown", "not_a_period")
    assert outcome in (0.26, 34.67)  # the cell as printed stays in the row
    assert _outcomes_of_row(wh, ANNUAL, row_no) == []  # under no period: not the report's 2013
    in_2013 = query(
        wh,
        "select count(*) from fact_observation o join fact_indicator_value f using (report_key, row_no) "
        "where starts_with(f.indicator_as_printed, ?) and o.measure = 'outcome' and o.value_source = 'reported'",
        name,
    )
    assert in_2013 == [(0,)]


def test_the_annual_reports_figures_supersede_the_plans_of_the_same_year(warehouse):
    wh, _ = warehouse
    got = query(
        wh,
        "select measure, value, report_file, revisions from indicator_latest_revision "
        "where district_code = 'rinkeby-kista' and indicator = ? and year(ref_start) = 2020 "
        "and measure in ('target', 'city_target') order by measure",
        CHILDREN,
    )
    assert got == [("city_target", 2.7, RINKEBY_VB, 2), ("target", 7.0, RINKEBY_VB, 2)]
    [(target,)] = query(
        wh,
        "select target from indicator_series where district_code = 'rinkeby-kista' and indicator = ? "
        "and ref_period = '2020'",
        CHILDREN,
    )
    assert target == 7.0  # not the plan's 8 %


def test_a_report_typed_from_its_body_says_so_on_every_row(warehouse):
    wh, _ = warehouse
    flags = query(
        wh,
        "select count(*), count(*) filter (where contains(quality_flag, 'metadata_from_body')) "
        "from indicator_values where report_file = ?",
        sample_name("002"),
    )
    assert flags == [(117, 117)]
    others = query(
        wh,
        "select count(*) from indicator_values where report_file <> ? and contains(quality_flag, 'metadata_from_body')",
        sample_name("002"),
    )
    assert others == [(0,)]
    [(outcome, flag)] = query(
        wh,
        "select outcome, quality_flag from indicator_values where report_file = ? and indicator = ?",
        sample_name("002"),
        CHILDREN,
    )
    assert (outcome, flag) == (3.3, "metadata_from_body")


def test_a_row_without_a_unit_takes_its_indicators_unit_by_a_fixed_tie_break_and_says_so(warehouse):
    wh, _ = warehouse
    got = query(
        wh,
        "select indicator_as_printed, outcome, unit, unit_as_printed, quality_flag from indicator_values "
        "where report_file = ? order by source_line",
        FARSTA,
    )
    # "st" and "%" are printed once each: the tie goes to the first in sort order, '%', whatever the
    # order of the rows; a new indicator with no unit anywhere stays NULL and unflagged
    assert got == [
        ("Antal testenheter", 7.0, "st", "st", None),
        ("Antal testenheter", 5.0, "%", "%", None),
        ("Antal testenheter", 9.0, "%", None, "unit_from_indicator"),
        ("Antal testenheter i grupp", 9.0, None, None, None),
    ]


def test_a_coverless_report_typed_as_a_t1_does_not_replace_the_real_t1(warehouse):
    wh, _ = warehouse
    assert query(wh, "select report_file from dim_report where district_code = 'farsta'") == [(FARSTA,)]
    [(reason,)] = query(wh, "select reason from load_errors where file = ?", COVERLESS)
    assert reason.startswith(f"superseded by {FARSTA}: both report Farsta, tertialrapport_1 2015 T1; this file's")
    outcomes = query(
        wh, "select outcome from indicator_values where indicator_as_printed = 'Antal testenheter' order by all"
    )
    assert outcomes == [(5.0,), (7.0,), (9.0,)]  # the real T1's, none of 101..106


def test_a_report_typed_from_its_body_never_supersedes_one_read_from_its_cover():
    def parsed(name, rows, source):
        meta = ReportMeta("Hässelby-Vällingby", None, "tertialrapport_1", 2019, 1)
        meta.evidence = {f: source for f in ("district", "report_type", "year", "tertial")}
        return SimpleNamespace(file=SimpleNamespace(name=name), meta=meta, rows=rows)

    guessed, covered = parsed("a_no_cover.txt", 117, "text"), parsed("b_cover.txt", 12, "cover")
    kept, errors = keep_one_report_per_scope([guessed, covered])
    assert kept == [covered]  # not the fuller one: its period is a guess
    assert [(e.file, e.reason) for e in errors] == [
        (
            "a_no_cover.txt",
            "superseded by b_cover.txt: both report Hässelby-Vällingby, tertialrapport_1 2019 T1; this file's "
            "council, type or year were read from its body, b_cover.txt's from its cover or manifest row (remove "
            "or correct the other file to choose)",
        )
    ]
    both_covered = parsed("a_no_cover.txt", 117, "cover")
    assert keep_one_report_per_scope([both_covered, covered])[0] == [both_covered]  # then the fuller one
