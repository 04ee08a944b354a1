"""End to end: build the warehouse from raw/ into a temporary folder and read real cells back."""

import shutil
from pathlib import Path

import duckdb

from pipeline.cli import main, run_build
from pipeline.orchestration.settings import BuildSettings

from .conftest import sample_txt


def _one(warehouse: Path, sql: str, *params):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(sql, params).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


VALUES = (
    "outcome, outcome_men, outcome_women, previous_outcome, previous_label, forecast, target, city_target, "
    "unit, period, quality_flag"
)


def test_welfare_children_sample_000(built):
    wh, _, _ = built
    row = _one(
        wh,
        f"select district, report_type, year, tertial, {VALUES}, source_page, source_line, goal_ref "
        "from indicator_values where report_file = '000_3e9cf77e5c646f75.pdf' and indicator_as_printed = ?",
        "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd",
    )
    assert row == (
        "Hässelby-Vällingby",
        "tertialrapport_1",
        2014,
        1,
        5.79,
        None,
        None,
        5.77,
        "VB 2013",
        5.6,
        5.5,
        4.0,
        "%",
        "Tertial 1 2014",
        None,
        6,
        9,
        "1.2",
    )


def test_summer_jobs_sample_001(built):
    wh, _, _ = built
    row = _one(
        wh,
        f"select district, year, {VALUES} from indicator_values where indicator_as_printed = ? and year = 2021",
        "Antal ungdomar som fått feriejobb i stadens regi",
    )
    assert row == (
        "Hägersten-Älvsjö",
        2021,
        0.0,
        0.0,
        0.0,
        369.0,
        "VB 2020",
        350.0,
        400.0,
        9000.0,
        "st",
        "Tertial 1 2021",
        None,
    )


def test_text_cell_and_comment_sample_001(built):
    wh, _, _ = built
    row = _one(
        wh,
        "select target, city_target, comment from indicator_values where indicator_as_printed = ?",
        "Andel avhysningar som kunnat avvärjas efter inkommet meddelande till förvaltningen från kronofogdemyndigheten",
    )
    assert row[0] == 50.0 and row[1] is None
    text = _one(
        wh, "select city_target_text from fact_indicator_value where indicator_as_printed like 'Andel avhysningar%'"
    )
    assert text == ("Tas fram av nämnd",)


def test_wrapped_name_and_comment_sample_004(built):
    wh, _, _ = built
    row = _one(
        wh,
        "select org_unit, outcome, previous_outcome, target, city_target, unit, comment "
        "from indicator_values where indicator_as_printed = ? and district = 'Östermalm'",
        "Antal ungdomar som fått sommarjobb i stadens regi",
    )
    assert row[:6] == ("Försörjningsstödsenheten", 225.0, 335.0, 205.0, 5100.0, "st")
    assert row[6].startswith("Kungsholmen: 308 ansökningar")


def test_plan_targets_sample_003(built):
    wh, _, _ = built
    row = _one(
        wh,
        "select report_type, target, city_target, period, outcome, goal_ref from indicator_values "
        "where district = 'Rinkeby-Kista' and indicator_as_printed = ?",
        "Andel vuxna med långvarigt ekonomiskt bistånd jämfört med samtliga vuxna invånare",
    )
    assert row == ("verksamhetsplan", 3.0, 1.0, "Tertial", None, "1.1")


def test_row_counts_per_report(built):
    wh, summary, _ = built
    with duckdb.connect(str(wh), read_only=True) as con:
        counts = dict(con.execute("select report_file, count(*) from indicator_values group by 1").fetchall())
    assert counts["000_3e9cf77e5c646f75.pdf"] == 67
    assert counts["001_e413b7b4eec749f1.pdf"] == 67
    assert counts["003_130f0561e7be4d6d.pdf"] == 78
    assert counts["004_05871d331dd0cb08.pdf"] == 10
    assert summary["rows_loaded"] == sum(counts.values())


def test_every_fact_has_provenance(built):
    wh, _, _ = built
    missing = _one(wh, "select count(*) from indicator_values where report_file is null or source_line is null")
    assert missing == (0,)


def test_contract_view_columns(built):
    wh, _, _ = built
    with duckdb.connect(str(wh), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe indicator_values").fetchall()]
    assert cols[:23] == [
        "report_file",
        "report_type",
        "district",
        "org_unit",
        "year",
        "tertial",
        "period",
        "goal_ref",
        "indicator",
        "indicator_as_printed",
        "unit",
        "outcome",
        "outcome_men",
        "outcome_women",
        "previous_outcome",
        "previous_label",
        "forecast",
        "target",
        "city_target",
        "comment",
        "source_page",
        "source_line",
        "quality_flag",
    ]


def test_summary_table_matches_build(built):
    wh, summary, _ = built
    with duckdb.connect(str(wh), read_only=True) as con:
        stored = dict(con.execute("select metric, value from build_summary").fetchall())
    assert stored == summary


def test_bad_files_are_reported_and_the_rest_loads(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(sample_txt("004"), raw)
    shutil.copy(sample_txt("004"), raw / "copy_of_004.txt")
    (raw / "empty.pdf").write_bytes(b"")
    (raw / "latin1.txt").write_bytes("Tertialrapport 1 2014 för Farsta stadsdelsnämnd\nÅrsmål".encode("latin-1"))
    (raw / "notes.docx").write_bytes(b"PK\x03\x04")
    (raw / "minutes.txt").write_text("Protokoll\n\nInga beslut fattades.\n", encoding="utf-8")
    (raw / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    wh = tmp_path / "wh" / "indicators.duckdb"
    ok, summary, errors = run_build(BuildSettings(raw_dir=str(raw), warehouse_path=str(wh), workers=2))
    assert ok
    reasons = {e.file: e.reason for e in errors}
    assert reasons["copy_of_004.txt"].startswith("same content as 004_05871d331dd0cb08.txt")
    assert reasons["empty.pdf"].startswith("empty file")
    assert reasons["latin1.txt"].startswith("not UTF-8 text")
    assert reasons["notes.docx"].startswith("not a report file")
    assert "cannot tell district, report_type, year" in reasons["minutes.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert summary["reports_loaded"] == 1 and summary["rows_loaded"] == 10
    with duckdb.connect(str(wh), read_only=True) as con:
        stored = {r[0] for r in con.execute("select file from load_errors").fetchall()}
    assert {"copy_of_004.txt", "empty.pdf", "latin1.txt", "notes.docx", "minutes.txt", "broken.pdf"} <= stored


def test_failed_build_keeps_previous_warehouse(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(sample_txt("004"), raw)
    wh = tmp_path / "indicators.duckdb"
    settings = BuildSettings(raw_dir=str(raw), warehouse_path=str(wh), workers=1)
    assert run_build(settings)[0]
    before = wh.read_bytes()

    import pipeline.warehouse.load as load

    def broken_sql(name):
        raise RuntimeError("simulated failure while loading")

    monkeypatch.setattr(load, "read_sql", broken_sql)
    shutil.copy(sample_txt("000"), raw)  # a new report: the build has work to do
    ok, _, _ = run_build(settings)
    assert not ok
    assert wh.read_bytes() == before
    assert not list(tmp_path.glob(".indicators.duckdb.building-*"))


def test_cli_build_and_query(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(sample_txt("004"), raw)
    wh = tmp_path / "indicators.duckdb"
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "reports loaded     1" in out and "rows loaded        10" in out
    assert (
        main(
            [
                "query",
                "--warehouse",
                str(wh),
                "--csv",
                "select outcome from indicator_values where indicator = 'Sjukfrånvaro'",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.split() == ["outcome", "5.7"]
    # read-only: a write is refused
    assert main(["query", "--warehouse", str(wh), "drop table fact_indicator_value"]) == 1
