"""A CLI build on an instance with DAGSTER_HOME set is recorded there, as the Dagster UI shows it; and a
normal build prints only its summary (no library log lines)."""

import os
import shutil
import subprocess
import sys

import dagster as dg

from .conftest import ROOT, sample_txt


def test_a_cli_build_is_recorded_in_the_dagster_home_instance(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(sample_txt("004"), raw)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INDICATORS_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--raw", str(raw), "--warehouse", str(tmp_path / "wh.duckdb")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no Great Expectations or Dagster log lines in a normal build
    assert "rows loaded        10" in done.stdout
    # outputs pass between the assets in memory: nothing pickled under the instance's storage
    assert [p.name for p in (home / "storage").iterdir() if p.is_file()] == []

    monkeypatch.setenv("DAGSTER_HOME", str(home))  # as the UI opens it
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert [(r.job_name, r.status) for r in runs] == [("build_warehouse", dg.DagsterRunStatus.SUCCESS)]
        event = instance.get_latest_materialization_event(dg.AssetKey("indicator_values"))
        metadata = event.asset_materialization.metadata
        assert metadata["dagster/row_count"].value == 10
        columns = {c.name: c.description for c in metadata["dagster/column_schema"].schema.columns}
        assert columns["district_code"].startswith("Key of the district council")
        series = instance.get_latest_materialization_event(dg.AssetKey("indicator_series")).asset_materialization
        assert "dagster/column_schema" in series.metadata and "dagster/row_count" not in series.metadata  # not counted
        assert instance.get_latest_materialization_event(dg.AssetKey("warehouse")) is not None
        checks = instance.get_records_for_run(
            runs[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        evaluated = {r.event_log_entry.dagster_event.event_specific_data.check_name for r in checks}
        assert {"indicator_facts_suite", "fact_indicator_value_suite", "report_row_counts_suite"} <= evaluated


GX_CONTEXT = (
    "import logging, sys; logging.basicConfig(level=sys.argv[1]); "
    "from pipeline.warehouse.validate import _context; _context()"
)


def test_library_log_lines_follow_the_chosen_level():
    quiet, verbose = (
        subprocess.run(
            [sys.executable, "-c", GX_CONTEXT, level], capture_output=True, text=True, timeout=300, cwd=ROOT
        ).stderr
        for level in ("WARNING", "INFO")
    )
    assert "great_expectations" not in quiet
    assert "Created temporary directory" in verbose  # INDICATORS_LOG=INFO still shows everything


def _run_in_fresh_instance(settings):
    from pipeline.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("build_warehouse")
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    return instance, result.run_id


def test_every_asset_of_a_run_is_materialized_by_it_and_checked_against_it(tmp_path, monkeypatch):
    """The first build and an up-to-date one, each on a fresh instance (a new `make dev`): every asset of
    the job is materialized by that run, with its metadata, and every check names that run's
    materialization as its target (read back from the instance's event log)."""
    from pipeline.orchestration.assets import ALL_ASSETS
    from pipeline.orchestration.settings import BuildSettings
    from pipeline.orchestration.tables import RELATION_ASSETS

    monkeypatch.setenv("INDICATORS_REPORT", "0")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(sample_txt("004"), raw)
    settings = BuildSettings(raw_dir=str(raw), warehouse_path=str(tmp_path / "wh.duckdb"), workers=1)
    job_assets = {key for a in (*ALL_ASSETS, *RELATION_ASSETS) for key in a.keys}
    for up_to_date in (False, True):
        instance, run_id = _run_in_fresh_instance(settings)
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
        assert {r.event_log_entry.dagster_event.asset_key for r in records} == job_assets
        for key in job_assets:
            event = instance.get_latest_materialization_event(key)
            assert event.run_id == run_id and event.asset_materialization.metadata, key
        values = instance.get_latest_materialization_event(dg.AssetKey("indicator_values")).asset_materialization
        assert values.metadata["dagster/row_count"].value == 10
        assert ("up_to_date" in values.metadata) == up_to_date
        warehouse = instance.get_latest_materialization_event(dg.AssetKey("warehouse")).asset_materialization
        assert bool(warehouse.metadata.get("up_to_date")) == up_to_date
        checks = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in checks]
        assert {e.check_name for e in evaluations} >= {"indicator_facts_suite", "report_row_counts_suite"}
        targets = {e.check_name: e.target_materialization_data for e in evaluations}
        assert [name for name, t in targets.items() if t is None or t.run_id != run_id] == []
        instance.dispose()
