"""The Great Expectations suites: they pass on the real samples, and they catch what they are for."""

from __future__ import annotations

import json
from types import SimpleNamespace

import polars as pl
import pytest

from pipeline.cli import run_build
from pipeline.common.models import ReportMeta
from pipeline.definitions import defs
from pipeline.model.normalize import normalize_report
from pipeline.warehouse.gates import CHECKS_DIR, WAREHOUSE_SUITES, run_gate
from pipeline.warehouse.validate import (
    EXPECTATIONS_DIR,
    FACTS_SUITE,
    SUPERSEDED,
    in_batches,
    keep_one_report_per_scope,
    suite_names,
    validate_frame,
)

from .build_helpers import make_raw, query, settings_for
from .conftest import SAMPLE_FILES


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    """Every sample report, built once: a suite that fails on real data is wrong. (Their text versions:
    the PDFs in raw/ give the same rows, and take seconds each to extract.)"""
    out = tmp_path_factory.mktemp("real")
    settings = settings_for(make_raw(out / "raw", *SAMPLE_FILES), out / "indicators.duckdb")
    ok, summary, _ = run_build(settings)
    assert ok
    return settings.warehouse, summary


def test_every_expectation_says_whether_it_blocks_and_why():
    for name in suite_names():
        spec = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert spec["name"] == name
        for expectation in spec["expectations"]:
            meta = expectation["meta"]
            assert isinstance(meta.get("blocking"), bool), (name, expectation)
            assert meta.get("why"), (name, expectation)


def test_every_warehouse_suite_has_a_frame_and_an_asset_check():
    assert set(suite_names()) == {FACTS_SUITE, *WAREHOUSE_SUITES}
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    for suite in WAREHOUSE_SUITES:
        assert (CHECKS_DIR / f"{suite}.sql").exists()
        assert f"{suite}_suite" in checks


def test_suites_pass_on_the_real_samples(real_build):
    wh, summary = real_build
    assert summary["checks_failed_blocking"] == 0
    failed = query(wh, "select suite, detail, unexpected_sample from validation_results where not success")
    assert failed == []
    assert summary["checks_run"] == query(wh, "select count(*) from validation_results")[0][0]


def test_every_table_is_checked(real_build):
    wh, _ = real_build
    suites = {r[0] for r in query(wh, "select distinct suite from validation_results")}
    assert suites == {FACTS_SUITE, *WAREHOUSE_SUITES}
    # the checks saw the rows: fact grain, keys and links over every fact
    facts = query(wh, "select count(*) from fact_indicator_value")[0][0]
    seen = query(
        wh,
        "select element_count from validation_results where suite = 'fact_indicator_value' "
        "and detail = 'expect_column_values_to_be_in_set(has_report, value_set=[True])'",
    )
    assert seen == [(facts,)]


def test_real_odd_values_load_not_quarantined(real_build):
    """001's 200 % and -1 %, 000's 100.2 % are printed in the reports: loaded, not quarantined."""
    wh, summary = real_build
    assert summary["rows_quarantined"] == 0
    odd = query(
        wh,
        "select report_file, previous_outcome from indicator_values where unit = '%' "
        "and (previous_outcome > 100 or previous_outcome < 0) order by 1, 2",
    )
    assert ("001_e413b7b4eec749f1.txt", 200.0) in odd
    assert ("001_e413b7b4eec749f1.txt", -1.0) in odd


def test_validation_results_say_what_blocks(real_build):
    wh, _ = real_build
    rows = dict(((s, d), b) for s, d, b in query(wh, "select suite, detail, blocking from validation_results"))
    assert rows[("report_row_counts", "expect_column_values_to_be_between(row_ratio, min_value=0.8)")] is True
    assert rows[("report_row_counts", "expect_column_values_to_be_between(row_ratio, min_value=1.0)")] is False
    assert rows[("fact_indicator_value", "expect_compound_columns_to_be_unique(column_list=['report_key', 'row_no'])")]


def _facts_004(parsed_txt) -> pl.DataFrame:
    return normalize_report(parsed_txt("004"))


def test_out_of_range_percentage_is_quarantined_with_its_reason(parsed_txt):
    facts = _facts_004(parsed_txt)
    row = facts.filter(pl.col("unit") == "%").row(0, named=True)["row_no"]
    broken = facts.with_columns(
        pl.when(pl.col("row_no") == row).then(12345.0).otherwise(pl.col("outcome")).alias("outcome")
    )
    result = validate_frame(broken)
    assert result.quarantined["row_no"].to_list() == [row]
    assert result.quarantined["reason"][0] == (
        "expect_column_values_to_be_between(percent_max, max_value=1000.0, min_value=-100.0)"
    )
    assert result.valid.height == facts.height - 1
    assert result.valid.columns == facts.columns  # the check columns are not loaded
    failed = [o for o in result.outcomes if not o.success]
    assert [(o.column, o.unexpected_count) for o in failed] == [("percent_max", 1)]
    assert failed[0].sample == [{"percent_max": 12345.0, "report_file": "004_05871d331dd0cb08.txt", "row_no": row}]


def test_negative_count_warns_but_loads(parsed_txt):
    facts = _facts_004(parsed_txt)
    broken = facts.with_columns(pl.when(pl.col("unit") == "st").then(-5.0).otherwise(pl.col("target")).alias("target"))
    result = validate_frame(broken)
    assert result.quarantined.is_empty()
    warned = [o for o in result.outcomes if not o.success]
    assert [(o.column, o.blocking) for o in warned] == [("count_min", False)]


def test_batches_keep_every_row():
    frames = [pl.DataFrame({"a": list(range(n))}) for n in (3, 4, 5)]
    batches = list(in_batches(frames, 6))
    assert [b.height for b in batches] == [7, 5]


def _parsed(name: str, rows: int, org_unit: str | None = None):
    meta = ReportMeta("Östermalm", org_unit, "verksamhetsberattelse", 2013, None)
    return SimpleNamespace(file=SimpleNamespace(name=name), meta=meta, rows=rows)


def test_two_reports_for_one_scope_the_fuller_one_loads():
    kept, errors = keep_one_report_per_scope([_parsed("a.txt", 9), _parsed("b.txt", 10), _parsed("c.txt", 4, "Enhet")])
    assert [p.file.name for p in kept] == ["b.txt", "c.txt"]
    assert [e.file for e in errors] == ["a.txt"]
    assert errors[0].reason.startswith(f"{SUPERSEDED} b.txt: both report Östermalm, verksamhetsberattelse 2013")


def test_two_reports_for_one_scope_a_tie_goes_to_the_first_name():
    kept, errors = keep_one_report_per_scope([_parsed("z.txt", 10), _parsed("m.txt", 10)])
    assert [p.file.name for p in kept] == ["m.txt"] and [e.file for e in errors] == ["z.txt"]


def test_a_check_frame_that_cannot_be_read_blocks(real_build, monkeypatch):
    import pipeline.warehouse.gates as gates

    wh, _ = real_build
    real_sql = gates.check_frame_sql
    monkeypatch.setattr(
        gates,
        "check_frame_sql",
        lambda name: "select no_such_column from dim_goal" if name == "dim_goal" else real_sql(name),
    )
    report = run_gate(wh, wh, [])
    assert [(o.suite, o.expectation) for o in report.blocking_failures] == [("dim_goal", "check_frame")]
    assert "no_such_column" in report.reason()
