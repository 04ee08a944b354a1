"""parse/flat_rows: indicator tables in texts that lost their table layout (sample 002 and small fixtures).

The fixtures in tests/fixtures/flat/ are written in the flattened style of sample 002. Their trailing
spaces matter: a line that ends in a space wrapped at a space, one that does not was broken inside a
word ("kvinn" / "or/"). test_fixtures_keep_their_trailing_spaces fails if an editor strips them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.common.models import VALUE_COLUMNS, ExtractedText, ReportMeta, SourceFile, TextLine
from pipeline.parse.flat_placement import RowContext, gender_parts_fit, place_values
from pipeline.parse.flat_rows import fill_meta_from_periods, parse_flat_report
from pipeline.parse.flat_vocab import (
    NAME_FRAGMENT,
    NUMBER_GROUPING_UNCERTAIN,
    PERIOD_MISSING,
    PLACEMENT_INCONSISTENT,
    PLACEMENT_UNCERTAIN,
    TOO_MANY_VALUES,
    join_wrapped,
    resolve_thousands,
    table_of_contents,
    value_cells,
)
from pipeline.parse.report_meta import infer_report_meta
from pipeline.parse.tables import parse_report
from tests.conftest import sample_txt

FLAT = Path(__file__).parent / "fixtures" / "flat"
MEASURE_COLUMNS = ("outcome", "outcome_men", "outcome_women", "previous_outcome", "forecast", "target", "city_target")


def read_lines(path: Path) -> list[TextLine]:
    text = path.read_text(encoding="utf-8")
    return [TextLine(page=None, line_no=i + 1, text=line) for i, line in enumerate(text.splitlines())]


def extracted(path: Path) -> ExtractedText:
    return ExtractedText(SourceFile(str(path), path.name, "", path.stat().st_size, "txt"), read_lines(path))


def parse_flat_file(path: Path):
    ex = extracted(path)
    return parse_flat_report(ex, infer_report_meta(ex.lines))


def cells(**given: str) -> dict[str, str]:
    return {col: given.get(col, "") for col in VALUE_COLUMNS}


def rows_named(report, name: str):
    found = [r for r in report.rows if r.indicator_as_printed == name]
    assert found, f"no row named {name!r}"
    return found


@pytest.fixture(scope="module")
def s002():
    return parse_flat_file(sample_txt("002"))


@pytest.fixture(scope="module")
def page_breaks():
    return parse_flat_file(FLAT / "page_breaks.txt")


@pytest.fixture(scope="module")
def evidence():
    return parse_flat_file(FLAT / "evidence.txt")


# --- sample 002 ------------------------------------------------------------------------------


def test_002_row_counts(s002):
    flags = Counter(r.quality_flag for r in s002.rows)
    assert len(s002.rows) == 117
    assert flags[None] == 13
    assert flags[PLACEMENT_UNCERTAIN] == 104
    assert sum(flags.values()) == 117
    assert max(r.table_no for r in s002.rows) == 33  # 42 headers, 9 of them repeated at a page break


def test_002_metadata_without_cover(s002):
    meta = s002.meta
    assert (meta.district, meta.report_type, meta.year, meta.tertial) == (
        "Hässelby-Vällingby",
        "tertialrapport_1",
        2019,
        1,
    )
    assert meta.missing() == []


def test_002_parse_report_dispatches_to_flat_parser():
    report = parse_report(extracted(sample_txt("002")))
    assert len(report.rows) == 117
    assert report.meta.report_type == "tertialrapport_1"


def test_002_certain_row_with_every_value(s002):
    row = rows_named(s002, "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen")[0]
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="2,15 %",
        outcome_men="2,07 %",
        outcome_women="2,27 %",
        previous_outcome="2,07 %",
        forecast="1,6 %",
        target="1,6 %",
        city_target="1,6 %",
        period="Tertial 1 2019",
    )
    assert row.previous_label == "VB 2018"
    assert (row.source_line, row.source_page) == (158, None)
    assert row.goal_ref == "1.1"
    assert row.comment and row.comment.startswith("Antalet nyanlända som har gått ur etablering")


def test_002_thousands_and_units(s002):
    row = rows_named(s002, "Antal aspiranter som fått Stockholmsjobb")[0]
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="23 st",
        outcome_men="4 st",
        outcome_women="19 st",
        previous_outcome="40 st",
        forecast="40 st",
        target="40 st",
        city_target="1 050 st",
        period="Tertial 1 2019",
    )


def test_002_certain_from_gender_parts_that_cannot_fit(s002):
    # 0 / 822 / 700 cannot be a total and its gender parts: the five values fill the five other columns.
    row = rows_named(s002, "Antal tillhandahållna platser för feriejobb")[0]
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="0",
        previous_outcome="822",
        forecast="700",
        target="700 st",
        city_target="9 000 st",
        period="Tertial 1 2019",
    )
    row = rows_named(s002, "Andel barn som lever i familjer som har ekonomiskt bistånd")[0]
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="3,3 %",
        previous_outcome="3,2 %",
        forecast="2,8 %",
        target="2,8 %",
        city_target="2,8 %",
        period="Tertial 1 2019",
    )
    assert row.source_line == 151


def test_002_certain_for_an_indicator_about_things(s002):
    # Purchases have no gender parts; "tas fram av nämnden" is a KF target (city_target).
    rows = rows_named(s002, "Andel elektroniska inköp")
    row = next(r for r in rows if r.cells["period"] == "Tertial 1 2019")
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="64 %",
        previous_outcome="54 %",
        forecast="65 %",
        target="65 %",
        city_target="tas fram av nämnden",
        period="Tertial 1 2019",
    )


def test_002_certain_from_the_same_indicator_in_another_table(s002):
    kf, council = rows_named(s002, "Antal ungdomar som fått feriejobb i stadens regi")
    assert kf.quality_flag is None and kf.goal_ref == "1.1"
    assert kf.cells == cells(
        outcome="0 st",
        previous_outcome="1 082 st",
        forecast="950",
        target="950 st",
        city_target="9 000 st",
        period="Tertial 1 2019",
    )
    assert council.goal_ref == "1.1.N2"
    assert council.quality_flag is None
    assert council.cells == cells(outcome="0", forecast="950", target="950", period="Tertial 1 2019")


def test_002_full_rows_with_text_cell(s002):
    row = rows_named(s002, "Sjukfrånvaro")[0]
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="6,9 %",
        outcome_men="3,8 %",
        outcome_women="7,4 %",
        previous_outcome="7 %",
        forecast="6,9 %",
        target="6,9 %",
        city_target="tas fram av nämnd",
        period="Tertial 1 2019",
    )
    assert row.comment and row.comment.startswith("Skillnaden mellan kvinnor och mäns sjukfrånvaro")


def test_002_flagged_rows_keep_their_raw_text(s002):
    row = rows_named(s002, "Aktivt Medskapandeindex")[0]
    assert row.quality_flag == PLACEMENT_UNCERTAIN
    assert row.raw_text == " Aktivt Medskapandeindex 79 76 79 80 81 82 2019"
    assert row.cells["period"] == "2019"
    # The analysis under it goes on after a header repeated at the page break.
    assert row.comment and row.comment.startswith("Jämfört med föregående år")

    row = rows_named(s002, "Andel nyanlända i anläggningsboende ( ABO) som deltar i den lokala samhällsvägledningen")[0]
    assert row.quality_flag == PLACEMENT_UNCERTAIN
    assert row.raw_text.endswith("100 % 2019")
    assert row.cells["period"] == "2019"
    assert [c for c in MEASURE_COLUMNS if row.cells[c]] == ["target"]  # the best reading: one annual target

    row = rows_named(s002, "Antal barn per grupp")[0]
    assert row.quality_flag == PLACEMENT_UNCERTAIN  # 14,4 lies between 13,9 and 16: could be a gender split
    assert "13,9\nbarn/a\nvd." in row.raw_text
    assert row.cells["outcome"] == "14,4 barn/avd." and row.cells["period"] == "Tertial 1 2019"


def test_002_wrapped_period_and_cells(s002):
    row = rows_named(s002, "Andel miljöbränsle i stadens etanol- och biogasfordon")[0]
    assert row.cells["period"] == "Halvår 1 2019"
    row = rows_named(
        s002,
        "Antal tillhandahållna praktikplatser för högskolestuderande samt platser för verksamhetsförlagd utbildning",
    )[0]
    assert row.cells["city_target"] == "Tas fram av nämnden"
    assert row.quality_flag == PLACEMENT_UNCERTAIN


def test_002_rest_of_a_name_or_cell_after_a_repeated_header(s002):
    row = rows_named(
        s002,
        "Andel personer med insatser inom socialpsykiatrin som är nöjda med hur "
        "utredningen av deras behov av stöd genomfördes",
    )[0]
    assert row.source_line == 2130
    row = rows_named(s002, "Andel upphandlad verksamhet i konkurrens")[0]
    assert row.cells["city_target"] == "Tas fram av nämnd/styrelse"


def test_002_goals(s002):
    refs = {g.ref: g for g in s002.goals}
    assert refs["1.1"].text == (
        "I Stockholm är människor självförsörjande och vägen till arbete och svenskkunskaper är kort"
    )
    assert refs["1.1"].assessment == "helt"
    assert refs["1.1.N1"].text == "Nyanlända har kunskap om det svenska samhället"
    assert all(r.goal_ref in refs for r in s002.rows)
    assert (
        rows_named(s002, "Andel nyanlända i eget boende ( EBO) som deltar i den lokala samhällsvägledningen")[
            0
        ].goal_ref
        == "1.1.N1"
    )


def test_002_no_rows_from_activity_tables(s002):
    assert not any(
        r.indicator_as_printed.startswith(("Arbetsmarknadsnämnden ska", "Inventera", "Genomföra")) for r in s002.rows
    )
    assert all(r.cells["period"] for r in s002.rows)


# --- fixtures: page breaks -------------------------------------------------------------------


def test_fixtures_keep_their_trailing_spaces():
    for path in FLAT.glob("*.txt"):
        assert any(line.endswith(" ") for line in path.read_text(encoding="utf-8").splitlines()), path.name


def test_page_breaks_rows(page_breaks):
    names = [r.indicator_as_printed for r in page_breaks.rows]
    assert names == [
        "Andel personer som har ekonomiskt bistånd i förhållande till befolkningen",
        "Andel barn som lever i familjer som har ekonomiskt bistånd",
        "Antal ungdomar som fått feriejobb i stadens regi",
        "Andel upphandlad verksamhet i konkurrens",
        "Antal tillhandahållna praktikplatser för högskolestuderande",
    ]
    assert {r.table_no for r in page_breaks.rows} == {1}  # one table over three pages
    assert [r.quality_flag for r in page_breaks.rows] == [None, None, None, PLACEMENT_UNCERTAIN, PLACEMENT_UNCERTAIN]
    assert all(r.goal_ref == "1.1" for r in page_breaks.rows)


def test_page_breaks_row_with_all_values_and_wrapped_header(page_breaks):
    row = page_breaks.rows[0]
    assert row.cells == cells(
        outcome="2,15 %",
        outcome_men="2,07 %",
        outcome_women="2,27 %",
        previous_outcome="2,07 %",
        forecast="1,6 %",
        target="1,6 %",
        city_target="1,6 %",
        period="Tertial 1 2019",
    )
    assert row.previous_label == "VB 2018"
    assert row.comment == "Antalet nyanlända som har gått ur etablering har ökat."


def test_page_breaks_name_broken_by_footer_and_repeated_header(page_breaks):
    row = page_breaks.rows[2]
    assert row.source_line == 64  # the first line of the name, before the page footer
    assert row.quality_flag is None
    assert row.cells == cells(
        outcome="0 st",
        previous_outcome="1 082 st",
        forecast="950",
        target="950 st",
        city_target="9 000 st",
        period="Tertial 1 2019",
    )
    assert "Sida" not in row.raw_text and "Skarpnäcks" not in row.raw_text


def test_page_breaks_cell_broken_by_footer_and_running_title(page_breaks):
    row = page_breaks.rows[3]
    assert row.cells["city_target"] == "Tas fram av nämnd/styrelse"
    assert row.cells["period"] == "2019"
    assert row.raw_text.endswith("nämnd/\nstyrelse")


def test_page_breaks_missing_values_are_flagged(page_breaks):
    row = page_breaks.rows[4]
    assert row.quality_flag == PLACEMENT_UNCERTAIN
    assert row.cells["city_target"] == "Tas fram av nämnden"  # certain: only the KF column holds it
    assert row.raw_text == (
        "Antal tillhandahållna\npraktikplatser för\nhögskolestuderande\n60 55 55 Tas\n"
        "fram av\nnämnd\nen\nTertial 1\n2019"
    )


def test_page_breaks_goals_and_meta(page_breaks):
    assert [(g.ref, g.kind, g.assessment) for g in page_breaks.goals] == [
        ("1", "inriktningsmal", None),
        ("1.1", "kf_goal", "delvis"),
        ("1.1.N1", "namndmal", "helt"),
    ]
    meta = page_breaks.meta
    assert (meta.district, meta.report_type, meta.year, meta.tertial) == ("Skarpnäck", "tertialrapport_1", 2019, 1)
    assert meta.evidence["report_type"] == "text"


# --- fixtures: evidence ----------------------------------------------------------------------


def test_evidence_rows_and_flags(evidence):
    got = [(r.indicator_as_printed, r.goal_ref, r.quality_flag) for r in evidence.rows]
    assert got == [
        ("Andel elektroniska inköp", "3.2", None),
        ("Aktivt Medskapandeindex", "3.2", PLACEMENT_UNCERTAIN),
        ("Sjukfrånvaro", "3.2", None),
        ("Andel elektroniska inköp", "3.2.N1", None),
        ("Antal unga som fått feriejobb", "3.2.N1", NUMBER_GROUPING_UNCERTAIN),
        ("Andel nöjda deltagare", "3.2.N1", PLACEMENT_UNCERTAIN),
    ]


def test_evidence_placement_certain_from_another_table(evidence):
    council = evidence.rows[3]
    assert council.cells == cells(
        outcome="64 %", previous_outcome="54 %", forecast="65 %", target="65 %", period="Tertial 1 2019"
    )


def test_evidence_comment_goes_on_after_repeated_header(evidence):
    assert evidence.rows[1].comment == (
        "Jämfört med föregående år beror det lägre resultatet på ett försämrat utfall i huvudsak på två frågor om mål."
    )
    assert evidence.rows[2].comment is None


def test_evidence_table_of_contents_is_no_table(evidence):
    lines = read_lines(FLAT / "evidence.txt")
    assert sorted(table_of_contents(lines)) == [0, 1, 2, 3, 4, 5]
    assert [g.ref for g in evidence.goals] == ["3", "3.2", "3.2.N1"]
    assert len(evidence.rows) == 6


def test_evidence_meta_from_period_cells(evidence):
    meta = evidence.meta
    assert (meta.district, meta.report_type, meta.year, meta.tertial) == ("Farsta", "tertialrapport_1", 2019, 1)
    assert meta.evidence["report_type"] == "text" and meta.evidence["year"] == "text"


# --- fixtures: odd rows ----------------------------------------------------------------------


def test_odd_rows_are_kept_and_flagged():
    report = parse_flat_file(FLAT / "odd_rows.txt")
    got = [(r.indicator_as_printed, r.quality_flag) for r in report.rows]
    assert got == [
        ("och tagit del av arbetsmarknadsinsatser", NAME_FRAGMENT),  # its start was on the page before
        ("Andel unga med sommarjobb", PERIOD_MISSING),
        ("Antal deltagare i jobbcoachning", TOO_MANY_VALUES),
    ]
    too_many = report.rows[2]
    assert all(too_many.cells[c] == "" for c in MEASURE_COLUMNS)  # eight values, seven columns: none placed
    assert too_many.raw_text.endswith("1 2 3 4 5 6 7 8 Tertial 1\n2019")
    assert all(r.goal_ref == "N1" for r in report.rows)


def test_odd_rows_meta_is_not_invented():
    report = parse_flat_file(FLAT / "odd_rows.txt")
    assert report.meta.district is None  # no district named anywhere: the load step rejects the file
    assert report.meta.missing() == ["district"]


# --- helpers ---------------------------------------------------------------------------------


def test_join_wrapped_joins_words_broken_without_a_space():
    assert join_wrapped(["Utfall ", "kvinn", "or/ ", "flicko", "r"]) == "Utfall kvinnor/ flickor"
    assert join_wrapped(["13,9 ", "barn/a", "vd."]) == "13,9 barn/avd."
    assert join_wrapped(["Kvalitetsindikatorn -", " Självvärdering utifrån "]) == (
        "Kvalitetsindikatorn - Självvärdering utifrån"
    )


def test_value_cells():
    run = value_cells("23 st 4 st 19 st 40 st 40 st 40 st 1 050 st Tertial 1 2019".split())
    assert run is not None
    assert run.cells == ["23 st", "4 st", "19 st", "40 st", "40 st", "40 st", "1 050 st", "Tertial 1 2019"]
    run = value_cells("1 % +/-1 % +/- 1 % 2019".split())
    assert run is not None and run.cells == ["1 %", "+/-1 %", "+/- 1 %", "2019"]
    run = value_cells("95 % 96 % Öka - 2019".split())
    assert run is not None and run.cells == ["95 %", "96 %", "Öka", "-", "2019"]
    assert value_cells("Andel barn som lever i".split()) is None


def test_resolve_thousands():
    run = value_cells("0 822 700 700 st 9 000 st".split())
    assert run is not None
    assert resolve_thousands(run.cells, run.joinable) == (["0", "822", "700", "700 st", "9 000 st"], False)
    run = value_cells("1 200 1 500 st 2 000 st".split())
    assert run is not None
    assert resolve_thousands(run.cells, run.joinable) == (["1 200", "1 500 st", "2 000 st"], False)
    run = value_cells("1 500".split())
    assert run is not None
    assert resolve_thousands(run.cells, run.joinable) == (["1", "500"], True)


def test_gender_parts_fit():
    assert gender_parts_fit("2,15 %", "2,07 %", "2,27 %")  # between: a share
    assert gender_parts_fit("23 st", "4 st", "19 st")  # the sum: a count
    assert gender_parts_fit("39,8 %", "2 %", "38 %")  # the sum of rounded shares
    assert not gender_parts_fit("3,3 %", "3,2 %", "2,8 %")  # above both parts, below their sum
    assert not gender_parts_fit("0", "822", "700")  # below both


CONTEXT = RowContext(
    annual=False,
    tertial_report=True,
    goal_kind="kf_goal",
    about_people=None,
    marked=False,
    comment="",
    table_columns=None,
)


def test_place_values_certain_and_uncertain():
    full = ["1 %", "2 %", "3 %", "4 %", "5 %", "6 %", "7 %"]
    placed = place_values(full, MEASURE_COLUMNS, CONTEXT)  # one value per column, even if odd
    assert placed.flag is None and placed.cells["city_target"] == "7 %"
    placed = place_values(["5 %", "Tas fram av nämnd"], MEASURE_COLUMNS, CONTEXT)
    assert placed.flag == PLACEMENT_UNCERTAIN and placed.cells["city_target"] == "Tas fram av nämnd"
    assert place_values(full + ["8 %"], MEASURE_COLUMNS, CONTEXT).flag == TOO_MANY_VALUES
    # Gender parts that cannot fit the total: no placement passes, the row is flagged.
    placed = place_values(["1 %", "20 %", "30 %", "41 %", "41 %", "41 %"], MEASURE_COLUMNS, CONTEXT)
    assert placed.flag == PLACEMENT_INCONSISTENT


def test_fill_meta_from_periods_leaves_known_fields_and_ties_alone():
    meta = ReportMeta(year=2019, report_type="verksamhetsberattelse")
    assert fill_meta_from_periods(meta, ["Tertial 1 2019"], "x") == []
    assert meta.report_type == "verksamhetsberattelse"
    meta = ReportMeta()
    warnings = fill_meta_from_periods(meta, ["Tertial 1 2019", "Tertial 2 2019"], "x")
    assert meta.report_type is None and warnings
