"""The quality gate: a failing blocking check stops the swap, says why in one line, keeps the evidence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipeline.cli import main, run_build
from pipeline.definitions import build_definitions
from pipeline.warehouse.gates import is_transient
from pipeline.warehouse.housekeeping import (
    KEEP_REJECTED,
    REJECTED_DIR_NAME,
    WarehouseBusy,
    keep_rejected,
    warehouse_lock,
)

from .build_helpers import (
    build_template,
    copy_build,
    query,
    sample_name,
    settings_for,
    table_checksums,
    write_t1_report,
)

TRUNCATED_BYTES = 30_000  # the first third of sample 000: its cover and 15 of its 67 indicator rows


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A warehouse of samples 000 and 004, built once; each test rebuilds against its own copy."""
    return build_template(tmp_path_factory.mktemp("template"), "000", "004")


@pytest.fixture
def built(template, tmp_path):
    return copy_build(template, tmp_path)


def _truncate(path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def test_far_fewer_rows_from_the_same_file_blocks_the_swap(built, capsys):
    raw, wh = built
    before = table_checksums(wh)
    _truncate(raw / sample_name("000"), TRUNCATED_BYTES)

    code = main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"])

    assert code == 1
    err = capsys.readouterr().err
    failed = [ln for ln in err.splitlines() if ln.startswith("build failed")]
    assert len(failed) == 1
    assert failed[0].startswith(
        "build failed in warehouse: quality gate failed (1 blocking): report_row_counts: "
        "expect_column_values_to_be_between(row_ratio, min_value=0.8): 1 of 2 rows unexpected"
    )
    assert f"report_file={sample_name('000')}" in failed[0]
    assert f"warehouse unchanged: {wh}" in err
    assert table_checksums(wh) == before  # the previous warehouse is untouched


def test_a_rejected_warehouse_is_kept_for_inspection(built):
    raw, wh = built
    _truncate(raw / sample_name("000"), TRUNCATED_BYTES)
    ok, _, _ = run_build(settings_for(raw, wh))
    assert not ok
    [rejected] = (wh.parent / REJECTED_DIR_NAME).glob("indicators-*.duckdb")
    failing = query(
        rejected,
        "select suite, blocking, unexpected_count, unexpected_sample from validation_results "
        "where not success and blocking",
    )
    assert [(s, b, n) for s, b, n, _ in failing] == [("report_row_counts", True, 1)]
    assert sample_name("000") in failing[0][3]
    # the rows that made it fail are there to look at
    rows = query(rejected, "select count(*) from indicator_values where report_file = ?", sample_name("000"))
    assert 0 < rows[0][0] < 67
    assert query(rejected, "select value from build_summary where metric = 'checks_failed_blocking'") == [(1,)]
    assert not list(wh.parent.glob(".indicators.duckdb.building-*"))


def test_a_real_drop_can_be_accepted(built, capsys):
    raw, wh = built
    _truncate(raw / sample_name("000"), TRUNCATED_BYTES)
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1", "--accept-row-drops"]) == 0
    out = capsys.readouterr().out
    assert "checks warned" in out
    warned = query(
        wh,
        "select detail, blocking from validation_results where suite = 'report_row_counts' "
        "and not success order by detail",
    )
    assert warned == [
        ("expect_column_values_to_be_between(row_ratio, min_value=0.8)", False),
        ("expect_column_values_to_be_between(row_ratio, min_value=1.0)", False),
    ]


def test_the_same_content_under_a_new_name_is_compared_by_hash(built):
    raw, wh = built
    (raw / sample_name("004")).rename(raw / "ostermalm_vb_2013.txt")
    ok, summary, _ = run_build(settings_for(raw, wh))
    assert ok and summary["checks_warned"] == 0
    matched = query(wh, "select element_count from validation_results where suite = 'report_row_counts' limit 1")
    assert matched == [(2,)]


def test_a_non_blocking_check_warns_and_publishes(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_t1_report(
        raw / "bromma_t1_2015.txt",
        "Bromma",
        2015,
        [
            " Antal ungdomar som fått feriejobb i stadens regi\t-5 st\t335 st\t205 st\t205 st\t5100 st\t2015",
            " Sjukfrånvaro\t5,7 %\t6 %\t6 %\t6 %\t4,4 %\tTertial 1 2015",
        ],
    )
    wh = tmp_path / "wh" / "indicators.duckdb"
    ok, summary, _ = run_build(settings_for(raw, wh))
    assert ok
    assert summary["checks_warned"] >= 1 and summary["checks_failed_blocking"] == 0
    assert query(wh, "select outcome from indicator_values where indicator_as_printed like 'Antal ungdomar%'") == [
        (-5.0,)
    ]
    warned = {r[0] for r in query(wh, "select detail from validation_results where not success")}
    assert "expect_column_values_to_be_between(count_min, min_value=0.0)" in warned


def test_two_builds_of_the_same_input_give_the_same_warehouse(built):
    raw, wh = built
    first = table_checksums(wh)
    ok, _, _ = run_build(settings_for(raw, wh))
    assert ok
    assert table_checksums(wh) == first
    assert {"fact_indicator_value", "dim_report", "validation_results", "build_summary"} <= set(first)


def test_rejected_warehouses_are_pruned(tmp_path):
    wh = tmp_path / "indicators.duckdb"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for night in range(KEEP_REJECTED + 2):
        candidate = tmp_path / f".candidate-{night}"
        candidate.write_text(str(night))
        keep_rejected(candidate, wh, start + timedelta(days=night))
    kept = sorted((tmp_path / REJECTED_DIR_NAME).iterdir())
    assert [p.read_text() for p in kept] == [str(n) for n in range(2, KEEP_REJECTED + 2)]


def test_a_second_build_waits_for_the_lock_then_gives_up(tmp_path):
    wh = tmp_path / "indicators.duckdb"
    with warehouse_lock(wh):
        with pytest.raises(WarehouseBusy) as busy:
            with warehouse_lock(wh, timeout_s=0.2):
                pass
    assert is_transient(busy.value)
    released = threading.Event()

    def hold_briefly():
        with warehouse_lock(wh):
            released.wait(0.3)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    with warehouse_lock(wh, timeout_s=10):  # waits for the holder, then gets it
        pass
    holder.join()


def test_a_transient_failure_in_the_load_step_is_retried(built, monkeypatch):
    import pipeline.warehouse.gates as gates

    raw, wh = built
    (raw / sample_name("000")).unlink()  # a report removed on purpose: accepted below
    calls = []
    real_publish = gates.publish

    def flaky_publish(candidate, warehouse):
        calls.append(candidate)
        if len(calls) == 1:
            raise duckdb.IOException("simulated: the disk went away for a moment")
        return real_publish(candidate, warehouse)

    monkeypatch.setattr(gates, "publish", flaky_publish)
    settings = settings_for(raw, wh, retry_wait_s=0.0, accept_row_drops=True)
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(raise_on_error=False)
    assert result.success
    assert [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == ["warehouse"]
    assert len(calls) == 2
    assert query(wh, "select count(*) from dim_report") == [(1,)]
    assert not list((wh.parent / ".staging").iterdir())


def test_a_failed_gate_is_not_retried_and_tells_dagster_why(built):
    raw, wh = built
    _truncate(raw / sample_name("000"), TRUNCATED_BYTES)
    settings = settings_for(raw, wh, retry_wait_s=0.0)
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(raise_on_error=False)
    assert not result.success
    events = result.all_events
    assert not [e for e in events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    [failure] = [e for e in events if e.is_step_failure]
    assert "quality gate failed (1 blocking): report_row_counts" in failure.step_failure_data.error.message
    checks = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    row_counts = checks["report_row_counts_suite"]
    assert not row_counts.passed
    assert row_counts.metadata["failed_blocking"].value == 1
    assert row_counts.metadata["unexpected_rows"].value == 2  # one row under 0.8, counted by both expectations
    assert checks["fact_indicator_value_suite"].passed
    assert checks["indicator_facts_suite"].passed


def _fact_frame(warehouse):
    import pandas as pd
    import polars as pl

    from pipeline.warehouse.gates import check_frames, present_frame

    keys = [k for (k,) in query(warehouse, "select report_key from dim_report order by 1")]
    frames, _ = check_frames(
        warehouse, pd.DataFrame({"report_key": [], "report_file": [], "rows_before": []}), present_frame([]), keys
    )
    frame = frames["fact_indicator_value"]
    assert isinstance(frame, pl.DataFrame) and frame["report_key"].n_unique() == 2
    return frame


def test_report_shares_of_the_gate_add_up_to_one_run_over_every_row(template):
    """A patched build checks the new reports' rows and adds the kept shares of the others: the totals,
    counts and samples, are those of one Great Expectations run over every row."""
    import polars as pl

    from pipeline.warehouse.gates import _report_outcomes, _share_rows
    from pipeline.warehouse.validate import load_suite_json, run_suite

    frame = _fact_frame(template / "wh" / "indicators.duckdb").with_row_index("i")
    first, second = sorted(frame["report_key"].unique())
    # unknown units (a mostly=0.95 warning) and an impossible percentage (blocking) in both reports
    odd = pl.col("i").is_in([3, 5, 8]) | (pl.col("i") == frame.filter(pl.col("report_key") == second)["i"][2])
    frame = frame.with_columns(
        pl.when(odd).then(pl.lit("furlong")).otherwise(pl.col("unit")).alias("unit"),
        pl.when(pl.col("i") == 4).then(pl.lit(5790.0)).otherwise(pl.col("percent_max")).alias("percent_max"),
    ).drop("i")
    suite = "fact_indicator_value"
    whole, _ = run_suite(frame.to_pandas(), suite, load_suite_json(suite)["meta"]["id_columns"])

    _, first_shares = _report_outcomes(frame.filter(pl.col("report_key") == first), suite, [])
    kept = _share_rows(suite, first_shares)
    totals, shares = _report_outcomes(frame.filter(pl.col("report_key") == second), suite, kept)

    assert list(shares) == [second]
    seen = {o.key: (o.success, o.unexpected_count, o.element_count, o.sample) for o in totals}
    assert seen == {o.key: (o.success, o.unexpected_count, o.element_count, o.sample) for o in whole}
    by_detail = {o.detail: o for o in totals}
    assert (
        by_detail[
            "expect_column_values_to_be_between(percent_max, max_value=1000.0, min_value=-100.0)"
        ].unexpected_count
        == 1
    )
    assert any(o.unexpected_count == 4 and o.column == "unit" for o in totals)
    assert not all(o.success for o in totals)
