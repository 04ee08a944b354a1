"""BI views over all samples, and revisions across reports of one district and year."""

from pipeline.cli import run_build
from pipeline.orchestration.settings import BuildSettings

from .conftest import query


def test_plan_targets_sit_under_their_goals(built):
    wh, _, _ = built
    rows = query(
        wh,
        """
        select v.indicator_as_printed, v.target, v.city_target, g.goal_kind, g.goal_text
        from indicator_values v
        join dim_report r using (report_file)
        join dim_goal g on g.report_key = r.report_key and g.goal_ref = v.goal_ref
        where v.district = 'Rinkeby-Kista' and v.indicator_as_printed in (
            'Antal aspiranter som fått Stockholmsjobb',
            'Andel stockholmare som upplever trygghet i den stadsdel där man bor')
        order by 1""",
    )
    assert rows == [
        (
            "Andel stockholmare som upplever trygghet i den stadsdel där man bor",
            77.0,
            77.0,
            "kf_goal",
            "Stockholm är en trygg, säker och välskött stad att bo och vistas i",
        ),
        (
            "Antal aspiranter som fått Stockholmsjobb",
            57.0,
            800.0,
            "kf_goal",
            "I Stockholm är människor självförsörjande och vägen till arbete och svenskkunskaper är kort",
        ),
    ]


def test_unit_report_belongs_to_its_council(built):
    wh, _, _ = built
    rows = query(
        wh,
        "select distinct district, org_unit, report_type, year from indicator_values "
        "where report_file = '004_05871d331dd0cb08.pdf'",
    )
    assert rows == [("Östermalm", "Försörjningsstödsenheten", "verksamhetsberattelse", 2013)]
    units = query(wh, "select org_unit_key, district_code, org_unit from dim_org_unit where org_unit is not null")
    assert units == [("ostermalm/Försörjningsstödsenheten", "ostermalm", "Försörjningsstödsenheten")]
    # a report of a whole council has the council's own key, never NULL, so joins on it keep the council
    councils = query(wh, "select org_unit_key from dim_report r where district_code = 'hasselby-vallingby'")
    assert councils and set(councils) == {("hasselby-vallingby/",)}


def test_one_series_per_indicator_and_district(built):
    wh, _, _ = built
    dupes = query(
        wh,
        "select indicator_key, district, org_unit, ref_start, ref_end, count(*) from indicator_series "
        "group by all having count(*) > 1",
    )
    assert dupes == []
    per_district = query(
        wh,
        "select count(distinct district) from indicator_series where indicator_key = "
        "'andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand'",
    )
    assert per_district == [(2,)]  # Hässelby-Vällingby and Östermalm; Rinkeby-Kista's plan has targets only


def test_gender_dimension(built):
    wh, _, _ = built
    rows = query(
        wh,
        "select gender_code, value from indicator_observations where report_file = "
        "'001_e413b7b4eec749f1.pdf' and indicator = 'Sjukfrånvaro' and measure = 'outcome' "
        "and value_source = 'reported' order by gender_code",
    )
    assert rows == [("K", 10.5), ("M", 7.2), ("T", 10.0)]


def test_goal_assessments_view(built):
    wh, _, _ = built
    rows = query(
        wh,
        "select goal_text, assessment, parent_goal_text from goal_assessments "
        "where district = 'Hässelby-Vällingby' and report = 'Tertialrapport 1 2014' and goal_ref = '1.2'",
    )
    assert rows == [
        (
            "Invånare i Stockholm är självförsörjande",
            "inte",
            "Stockholm är en attraktiv, trygg, tillgänglig och växande stad för boende, företagande och besök",
        )
    ]


def test_target_attainment_uses_direction(built):
    wh, _, _ = built
    rows = query(
        wh,
        "select outcome, target, target_met, city_target_met from target_attainment "
        "where indicator = 'Sjukfrånvaro' and district = 'Hässelby-Vällingby' and ref_start = '2014-01-01' "
        "and span <> 'year'",
    )
    assert rows == [(6.9, 6.0, False, False)]  # lower is better: 6.9 % misses 6 %


HEADER = "Indikator\tPeriodens utfall\tPeriodens utfall VB {prev}\tPrognos helår\tÅrsmål\tKF:s årsmål\tPeriod"


def _report(title: str, prev: int, row: str) -> str:
    return "\n".join(
        [
            title,
            "",
            "KF:s mål för verksamhetsområdet:",
            "",
            "1.2 Invånare i Stockholm är självförsörjande",
            "",
            HEADER.format(prev=prev),
            row,
            "",
        ]
    )


def test_first_reported_and_revised_values(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "Andel barn som lever i familjer som har ekonomiskt bistånd"
    reports = {  # file: (title, year of the previous-year column, the row's cells after the name)
        "vb2013.txt": ("Verksamhetsberättelse 2013", 2012, "5,9 %\t6,1 %\t\t5,5 %\t4,0 %\t2013"),
        "t1_2014.txt": ("Tertialrapport 1 2014", 2013, "5,7 %\t5,8 %\t5,6 %\t5,5 %\t4,0 %\t2014"),
        "t2_2014.txt": ("Tertialrapport 2 2014", 2013, "5,6 %\t5,8 %\t5,4 %\t5,5 %\t4,0 %\t2014"),
        "vb2014.txt": ("Verksamhetsberättelse 2014", 2013, "5,3 %\t5,8 %\t\t5,5 %\t4,0 %\t2014"),
    }
    for file, (title, prev, cells) in reports.items():
        text = _report(f"{title} för Farsta stadsdelsnämnd", prev, f" {name}\t{cells}")
        (raw / file).write_text(text, encoding="utf-8")
    wh = tmp_path / "indicators.duckdb"
    ok, summary, _ = run_build(BuildSettings(raw_dir=str(raw), warehouse_path=str(wh), workers=1))
    assert ok and summary["reports_loaded"] == 4
    latest = query(
        wh,
        "select year(ref_start), value, report_file, value_source, revisions from indicator_latest_revision "
        "where measure = 'outcome' and gender_code = 'T' order by ref_start",
    )
    assert latest == [
        (2012, 6.1, "vb2013.txt", "previous_year_column", 1),
        # 2013 printed as 5.9 by its own annual report, restated as 5.8 in three 2014 reports: the annual report wins
        (2013, 5.9, "vb2013.txt", "reported", 4),
        # the 2014 annual outcome as T1, T2 and the annual report printed it (Period "2014"): the annual report wins
        (2014, 5.3, "vb2014.txt", "reported", 3),
    ]
    all_facts = query(wh, "select count(*) from fact_indicator_value")
    assert all_facts == [(4,)]  # every report's row is kept
    forecast = query(wh, "select value, report_file from indicator_latest_revision where measure = 'forecast'")
    assert forecast == [(5.4, "t2_2014.txt")]


def test_a_flag_travels_with_the_target_it_came_from(tmp_path):
    """T1 2019 prints the outcome with no flag; T2 2019's row of the same indicator is flagged (its cells carry
    two units) and gives the year's target. The T1 row's attainment uses that target, so it carries the flag."""
    from pipeline.cli import run_build

    from .build_helpers import query as query_at
    from .build_helpers import settings_for, write_t1_report

    raw = tmp_path / "raw"
    raw.mkdir()
    name = "Andel elever som är nöjda med skolan"
    write_t1_report(raw / "farsta_t1_2019.txt", "Farsta", 2019, [f"{name}\t80 %\t78 %\t\t\t\tTertial 1 2019"])
    t2 = write_t1_report(raw / "farsta_t2_2019.txt", "Farsta", 2019, [f"{name}\t81 %\t78 %\t\t90 st\t\tTertial 2 2019"])
    t2.write_text(t2.read_text(encoding="utf-8").replace("Tertialrapport 1 2019", "Tertialrapport 2 2019"), "utf-8")
    warehouse = tmp_path / "wh" / "w.duckdb"
    assert run_build(settings_for(raw, warehouse))[0]
    rows = query_at(
        warehouse,
        "select ref_period, outcome, target, quality_flag from target_attainment where indicator = ? order by 1",
        name,
    )
    assert rows == [("2019-T1", 80.0, 90.0, "mixed_units"), ("2019-T2", 81.0, 90.0, "mixed_units")]
