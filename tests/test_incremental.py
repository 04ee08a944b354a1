"""Rebuilds cost what changed: nothing changed leaves the warehouse alone; a changed report is read
again and the others come from the per-report caches."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.cli import main, run_build
from pipeline.common.models import ParsedReport
from pipeline.definitions import build_definitions
from pipeline.model.normalize import normalize_report
from pipeline.report.site import build_report
from pipeline.sources.discover import sha256_of
from pipeline.warehouse.validate import merge_outcome, validate_frame, validate_reports

from .build_helpers import make_raw, query, sample_name, settings_for, table_checksums, write_t1_report
from .conftest import extracted_txt, sample_txt


@pytest.fixture
def built_three(tmp_path):
    raw = make_raw(tmp_path / "raw", "000", "001", "004")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    ok, summary, _ = run_build(settings)
    assert ok and summary["reports_loaded"] == 3 and summary["reports_from_cache"] == 0
    return raw, settings


def test_nothing_changed_is_up_to_date_and_leaves_the_warehouse_in_place(built_three, capsys):
    raw, settings = built_three
    wh = settings.warehouse
    before = wh.stat()
    ok, summary, _ = run_build(settings)
    assert ok and summary["up_to_date"] == 1
    assert summary["reports_loaded"] == 3 and summary["files_extracted"] == 0
    after = wh.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"]) == 0
    assert "warehouse up to date" in capsys.readouterr().out


def test_a_changed_report_is_read_again_and_the_others_come_from_the_cache(built_three):
    raw, settings = built_three
    changed = raw / sample_name("004")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nBilaga 7\n", encoding="utf-8")
    ok, summary, _ = run_build(settings)
    assert ok and not summary.get("up_to_date")
    assert (summary["files_extracted"], summary["files_from_cache"]) == (1, 2)
    assert (summary["reports_from_cache"], summary["validations_from_cache"]) == (2, 2)
    assert summary["reports_loaded"] == 3
    # the warehouse holds the changed report's new content, and its rows still
    hashes = dict(query(settings.warehouse, "select report_file, content_hash from dim_report"))
    assert hashes[changed.name] == sha256_of(changed)
    assert query(settings.warehouse, "select count(*) from indicator_values where report_file = ?", changed.name) == [
        (10,)
    ]


def test_a_rebuild_from_the_caches_gives_the_same_warehouse_as_one_without(built_three, tmp_path):
    raw, settings = built_three
    # the same previous warehouse (the gate compares with it), without the caches
    fresh = settings_for(raw, tmp_path / "fresh" / "indicators.duckdb", accept_row_drops=True)
    fresh.warehouse.parent.mkdir()
    shutil.copy(settings.warehouse, fresh.warehouse)
    (raw / sample_name("001")).unlink()
    ok, summary, _ = run_build(settings_for(raw, settings.warehouse, accept_row_drops=True))
    assert ok and summary["reports_from_cache"] == 2 and summary["reports_loaded"] == 2
    ok, summary, _ = run_build(fresh)
    assert ok and summary["reports_from_cache"] == 0
    assert table_checksums(settings.warehouse) == table_checksums(fresh.warehouse), _differences(settings, fresh)


def _differences(a, b) -> list:
    sql = "select suite, detail, success, unexpected_count, element_count, unexpected_sample from validation_results"
    return sorted(set(query(a.warehouse, sql)) ^ set(query(b.warehouse, sql)))


def test_the_dagster_run_of_an_unchanged_build_says_up_to_date(built_three):
    _, settings = built_three
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process()
    assert result.success
    for asset in ("extracted_texts", "parsed_reports", "validated_indicators", "warehouse"):
        [materialization] = result.asset_materializations_for_node(asset)
        assert materialization.metadata["up_to_date"].value is True, asset
    relations = result.asset_materializations_for_node("warehouse_relations")  # recorded, marked up to date
    assert relations and all(m.metadata["up_to_date"].value is True for m in relations)
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(c.passed and c.metadata["up_to_date"].value for c in checks)


def _facts(*keys: str) -> pl.DataFrame:
    from pipeline.parse.tables import parse_report

    frames = []
    for key in keys:
        report: ParsedReport = parse_report(extracted_txt(sample_txt(key)))
        frames.append(normalize_report(report))
    return pl.concat(frames, how="vertical_relaxed")


def test_per_report_validation_shares_add_up_to_one_run_over_all_rows():
    facts = _facts("000", "004")
    # an out-of-range percentage in one report (two cells read as one): quarantined, counted once
    first = facts["report_id"][0]
    facts = facts.with_row_index("i")
    [target] = facts.filter((pl.col("report_id") == first) & (pl.col("unit") == "%"))["i"].head(1)
    facts = facts.with_columns(
        pl.when(pl.col("i") == target).then(pl.lit(5790.0)).otherwise(pl.col("outcome")).alias("outcome")
    ).drop("i")
    whole = validate_frame(facts)
    shares = validate_reports(facts)
    assert set(shares) == set(facts["report_id"].unique())
    totals: dict = {}
    for result in shares.values():
        for outcome in result.outcomes:
            merge_outcome(totals, outcome)
    merged = {o.key: (o.success, o.unexpected_count, o.element_count) for o in totals.values()}
    assert merged == {o.key: (o.success, o.unexpected_count, o.element_count) for o in whole.outcomes}
    assert sum(r.valid.height for r in shares.values()) == whole.valid.height
    assert sum(r.quarantined.height for r in shares.values()) == whole.quarantined.height
    assert whole.quarantined.height >= 1 and shares[first].quarantined.height == whole.quarantined.height


def _whole_load_of(previous: Path, target: Path) -> Path:
    """A copy of a published warehouse that no build can patch (its code is unknown): the next build
    into it loads every report, and its gate compares with the same previous figures."""
    target.parent.mkdir(parents=True)
    shutil.copy(previous, target)
    with duckdb.connect(str(target)) as con:
        con.execute("delete from build_state where name = 'code'")
    return target


def _same_warehouse(patched: Path, whole: Path, min_pages: int = 10) -> None:
    """Every table equal, and what is derived by views (the report's queries) too: a patched file stores
    rows in another order, so a choice that depended on that order would show here."""
    assert table_checksums(patched) == table_checksums(whole)
    for sql in (
        "select * from indicator_values order by all",
        "select * from fact_observation order by all",
        "select * from target_attainment order by all",
        "select * from dim_indicator order by all",
        "select * from load_errors order by all",
        "select suite, detail, success, unexpected_count, observed_value from validation_results order by all",
        "select * from indicator_latest_revision order by all",
    ):
        assert query(patched, sql) == query(whole, sql), sql
    sites = [build_report(w, w.parent / "report", w.parent / "raw", workers=1).out_dir for w in (patched, whole)]
    pages = sorted(p.relative_to(sites[0].resolve()) for p in sites[0].resolve().rglob("*.html"))
    assert len(pages) >= min_pages
    for page in pages:
        assert (sites[0] / page).read_bytes() == (sites[1] / page).read_bytes(), page


def _unit_report(raw: Path, name: str, district: str, cell: str) -> Path:
    return write_t1_report(raw / name, district, 2019, [f"Antal provhushåll i test\t{cell}\t\t\t\t\tTertial 1 2019"])


def test_a_build_that_loads_only_what_changed_gives_the_warehouse_a_whole_load_gives(tmp_path, caplog):
    raw = make_raw(tmp_path / "raw", "000", "004")
    _unit_report(raw, "a.txt", "Bromma", "12")  # no unit printed: takes its indicator's
    _unit_report(raw, "b.txt", "Kungsholmen", "7 st")
    warehouse = tmp_path / "wh" / "indicators.duckdb"
    assert run_build(settings_for(raw, warehouse))[0]
    unit_of_a = "select unit, outcome from indicator_values where report_file = 'a.txt'"
    assert query(warehouse, unit_of_a) == [("st", 12.0)]

    # a new report, a changed one, and two that change the unit the row of a.txt takes
    whole = _whole_load_of(warehouse, tmp_path / "whole" / "indicators.duckdb")
    make_raw(raw, "001")
    changed = raw / sample_name("004")
    changed.write_text(changed.read_text(encoding="utf-8") + "\nBilaga 7\n", encoding="utf-8")
    _unit_report(raw, "c.txt", "Norrmalm", "3 %")
    _unit_report(raw, "d.txt", "Södermalm", "4 %")
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        ok, summary, _ = run_build(settings_for(raw, warehouse))
    assert ok and summary["reports_loaded"] == 7
    assert "warehouse patched: 4 reports loaded, 1 removed or replaced" in caplog.text
    # the gate read the rows of the four, and of a.txt and b.txt whose unit changed; not those of 000
    assert summary["reports_gate_checked"] == 6
    assert query(warehouse, unit_of_a) == [("%", 12.0)]
    assert query(warehouse, "select content_hash from dim_report where report_file = ?", changed.name) == [
        (sha256_of(changed),)
    ]
    # Hässelby-Vällingby 2014 T1 (sample 000): the share of children in families on welfare, against target
    share = (
        "select ref_period, outcome, target, target_met from target_attainment "
        "where indicator_key = 'andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand' order by all"
    )
    assert ("2014-T1", 5.79, 5.5, False) in query(warehouse, share)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        assert run_build(settings_for(raw, whole))[0]
    assert "warehouse patched" not in caplog.text  # loaded whole
    _same_warehouse(warehouse, whole)
    with duckdb.connect(str(warehouse), read_only=True) as con:  # still a file DuckDB 1.x readers open
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()
    assert tags[0]["storage_version"].startswith("v1.0.0")

    # a report removed (accepted): its rows, goals and series go
    whole = _whole_load_of(warehouse, tmp_path / "whole2" / "indicators.duckdb")
    (raw / sample_name("000")).unlink()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        assert run_build(settings_for(raw, warehouse, accept_row_drops=True))[0]
    assert "warehouse patched: 0 reports loaded, 1 removed or replaced" in caplog.text
    assert ("2014-T1", 5.79, 5.5, False) not in query(warehouse, share)
    assert run_build(settings_for(raw, whole, accept_row_drops=True))[0]
    _same_warehouse(warehouse, whole)


WELFARE_SHARE = (
    "select outcome, target from indicator_values where report_file = ? "
    "and indicator_key = 'andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand'"
)


def test_a_warehouse_written_to_since_it_was_published_is_loaded_and_checked_whole(built_three, caplog):
    raw, settings = built_three
    wh, hasselby = settings.warehouse, sample_name("000")
    assert query(wh, WELFARE_SHARE, hasselby) == [(5.79, 5.5)]  # Hässelby-Vällingby, tertial 1 2014
    tamper = (
        "update fact_indicator_value set outcome = 57.9 where indicator_key = "
        "'andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand' and report_key = "
        "(select report_key from dim_report where report_file = ?)"
    )
    with duckdb.connect(str(wh)) as con:  # a hand-made change to the published file
        con.execute(tamper, [hasselby])
    # the same reports and code: not up to date, the file is built again from the reports
    ok, summary, _ = run_build(settings)
    assert ok and not summary.get("up_to_date") and summary["reports_gate_checked"] == 3
    assert query(wh, WELFARE_SHARE, hasselby) == [(5.79, 5.5)]
    with duckdb.connect(str(wh)) as con:
        con.execute(tamper, [hasselby])
    make_raw(raw, "002")
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        ok, summary, _ = run_build(settings)
    assert ok and summary["reports_loaded"] == 4
    assert "warehouse patched" not in caplog.text  # not copied: loaded from the reports again
    assert summary["reports_gate_checked"] == 4
    assert query(wh, WELFARE_SHARE, hasselby) == [(5.79, 5.5)]
    # the next build with one more report patches the file it published, and checks that report only
    (raw / sample_name("003")).write_bytes(sample_txt("003").read_bytes())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        ok, summary, _ = run_build(settings)
    assert ok and "warehouse patched: 1 reports loaded, 0 removed or replaced" in caplog.text
    assert summary["reports_gate_checked"] == 1
    checked = "select element_count from validation_results where suite = 'fact_indicator_value' limit 1"
    assert query(wh, checked) == query(wh, "select count(*) from fact_indicator_value")  # totals of every row


def test_a_name_variant_in_a_new_report_renames_the_indicator_in_every_councils_attainment(tmp_path, caplog):
    """target_attainment is derived again only for the series a build touches, and for every series of an
    indicator whose catalog row changes: here its name, by a variant a new report prints."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write_t1_report(raw / "a.txt", "Bromma", 2019, ["Antal provhushåll i test\t12 st\t\t\t10 st\t\tTertial 1 2019"])
    warehouse = tmp_path / "wh" / "indicators.duckdb"
    assert run_build(settings_for(raw, warehouse))[0]
    attainment = "select district, indicator, outcome, target from target_attainment order by all"
    assert query(warehouse, attainment) == [("Bromma", "Antal provhushåll i test", 12.0, 10.0)]

    whole = _whole_load_of(warehouse, tmp_path / "whole" / "indicators.duckdb")
    write_t1_report(raw / "b.txt", "Kungsholmen", 2019, ["ANTAL provhushåll i test\t7 st\t\t\t9 st\t\tTertial 1 2019"])
    with caplog.at_level(logging.INFO, logger="pipeline.warehouse.load"):
        assert run_build(settings_for(raw, warehouse))[0]
    assert "warehouse patched: 1 reports loaded, 0 removed or replaced" in caplog.text
    renamed = [
        ("Bromma", "ANTAL provhushåll i test", 12.0, 10.0),
        ("Kungsholmen", "ANTAL provhushåll i test", 7.0, 9.0),
    ]
    assert query(warehouse, attainment) == renamed
    assert run_build(settings_for(raw, whole))[0]
    _same_warehouse(warehouse, whole, min_pages=5)
