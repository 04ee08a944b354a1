"""Each report as a Dagster partition: keys that name their report, partitions kept in step with the raw
folder, one report's run with its figures, a rejected report as a failed partition re-run alone, the
multiprocess executor, and a backfill of the partitions followed by the warehouse giving the warehouse
`indicators build` gives, row for row."""

import shutil

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import build_definitions
from pipeline.orchestration.executors import report_executor, report_executor_config
from pipeline.orchestration.partitions import (
    NOTHING_STORED,
    REPORTS_PARTITIONS,
    nothing_stored,
    partition_key,
    report_name,
    report_names,
    report_results,
    reports_per_run,
    sync_partitions,
)
from pipeline.orchestration.sensors import raw_folder_sensor
from pipeline.orchestration.settings import BuildSettings
from pipeline.sources import extract
from pipeline.warehouse.relations import PUBLISHED_RELATIONS

from .build_helpers import RUN_DEPENDENT_METRICS, make_raw, query, sample_name, settings_for
from .conftest import RAW, sample_txt

HV_T1_2014 = "000_3e9cf77e5c646f75.pdf"  # Hässelby-Vällingby, Tertialrapport 1 2014
WELFARE_2014 = "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"
# columns that say when or how long, not what
RUN_DEPENDENT = {("validation_results", "run_id"), ("validation_results", "run_at")}


def _materialize(settings: BuildSettings, key: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    resources = {"settings": settings, NOTHING_STORED: nothing_stored}
    return dg.materialize(
        [report_results], partition_key=key, instance=instance, resources=resources, raise_on_error=False
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.asset_materializations_for_node("report_results")
    return {k: v.value for k, v in event.metadata.items()}


def no_extraction(*_args, **_kwargs):
    raise AssertionError("a report was extracted again")


def relation_rows(warehouse) -> dict[str, list[tuple]]:
    """Every published table's and view's rows, sorted; build times and cache counters left out."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name in PUBLISHED_RELATIONS:
            columns = [r[0] for r in con.execute(f'describe "{name}"').fetchall()]
            kept = ", ".join(f'"{c}"' for c in columns if (name, c) not in RUN_DEPENDENT)
            where = ""
            if name == "build_summary":
                where = "where metric not in (" + ", ".join(f"'{m}'" for m in RUN_DEPENDENT_METRICS) + ")"
            rows = con.execute(f'select {kept} from "{name}" {where}').fetchall()
            out[name] = sorted(rows, key=repr)
    return out


def test_a_partition_key_names_its_report_and_is_a_valid_key():
    names = ["000_3e9cf77e5c646f75.pdf", "rapport...2014.pdf", "a..pdf", "x,y[1]|2%.txt", "Östermalm VB 2013.pdf"]
    keys = [partition_key(n) for n in names]
    assert keys[0] == "000_3e9cf77e5c646f75.pdf"  # ordinary names are their own keys
    assert keys[1] == "rapport%2E%2E%2E2014.pdf" and keys[2] == "a%2E%2Epdf"
    assert keys[3] == "x%2Cy%5B1%5D%7C2%25.txt"
    assert [report_name(k) for k in keys] == names
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(REPORTS_PARTITIONS, keys)  # Dagster takes every one
    assert sorted(instance.get_dynamic_partitions(REPORTS_PARTITIONS)) == sorted(keys)
    assert not any(bad in k for k in keys for bad in ("...", ",", "[", "]", "|"))


def test_the_sensor_and_the_build_keep_the_partitions_in_step_with_the_folder(tmp_path):
    raw = make_raw(tmp_path / "raw", "004", "000")
    (raw / "notes.csv").write_text("not a report\n")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(resources={"settings": settings}, instance=instance) as context:
        (added,) = raw_folder_sensor(context).dynamic_partitions_requests
        assert isinstance(added, dg.AddDynamicPartitionsRequest)
        assert added.partition_keys == sorted([sample_name("000"), sample_name("004")])
        instance.add_dynamic_partitions(REPORTS_PARTITIONS, added.partition_keys)  # what the daemon does with it
        (raw / sample_name("000")).unlink()
        (removed,) = raw_folder_sensor(context).dynamic_partitions_requests
        assert isinstance(removed, dg.DeleteDynamicPartitionsRequest)
        assert removed.partition_keys == [sample_name("000")]
    # the build does the same from its own discovery
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(instance=instance)
    assert result.success
    assert instance.get_dynamic_partitions(REPORTS_PARTITIONS) == [sample_name("004")]


def test_a_rejected_report_fails_its_partition_and_is_rerun_alone(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    (raw / "minutes.txt").write_text("Protokoll från nämndens sammanträde\n\nInga tabeller här.\n", encoding="utf-8")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    instance = dg.DagsterInstance.ephemeral()
    sync_partitions(instance, report_names(raw))
    bad = _materialize(settings, "minutes.txt", instance)
    assert not bad.success
    (failure,) = [e for e in bad.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "minutes.txt: parse: cannot tell" in message and "\n" not in message.strip()
    good = _materialize(settings, sample_name("004"), instance)
    assert good.success and _metadata(good)["rows"] == 10
    asset = dg.AssetKey("report_results")
    assert instance.get_materialized_partitions(asset) == {sample_name("004")}
    instance.add_dynamic_partitions(REPORTS_PARTITIONS, ["gone.txt"])  # its file removed before the run
    gone = _materialize(settings, "gone.txt", instance)
    (failure,) = [e for e in gone.all_events if e.is_step_failure]
    assert "gone.txt: discover: no such report file in the raw folder" in failure.step_failure_data.error.message
    shutil.copy(sample_txt("000"), raw / "minutes.txt")  # the right file put in its place: its partition alone
    again = _materialize(settings, "minutes.txt", instance)
    assert again.success and _metadata(again)["rows"] == 67
    assert instance.get_materialized_partitions(asset) == {sample_name("004"), "minutes.txt"}


def reports_job():
    """The partitions' job as a Dagster code location gives it (settings from INDICATORS_*)."""
    return build_definitions().resolve_job_def("build_reports")


def test_a_partition_runs_under_the_multiprocess_executor(tmp_path, monkeypatch):
    raw = make_raw(tmp_path / "raw", "004")
    monkeypatch.setenv("INDICATORS_RAW", str(raw))
    monkeypatch.setenv("INDICATORS_WAREHOUSE", str(tmp_path / "wh" / "indicators.duckdb"))
    key = sample_name("004")
    assert reports_job().executor_def.name == "multiprocess"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(REPORTS_PARTITIONS, [key])
        with dg.execute_job(
            dg.reconstructable(reports_job), instance=instance, tags={"dagster/partition": key}
        ) as result:
            assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey("report_results"))
        assert event.asset_materialization.partition == key
        assert event.asset_materialization.metadata["rows"].value == 10
    assert list((tmp_path / "wh" / ".cache" / "reports").glob("*.valid.parquet"))  # its results, for the build


def test_a_backfill_then_the_warehouse_gives_the_cli_warehouse_row_for_row(built, tmp_path, monkeypatch):
    cli_warehouse, cli_summary, _ = built
    settings = BuildSettings(raw_dir=str(RAW), warehouse_path=str(tmp_path / "wh" / "indicators.duckdb"), workers=2)
    instance = dg.DagsterInstance.ephemeral()
    sync_partitions(instance, report_names(RAW))
    keys = instance.get_dynamic_partitions(REPORTS_PARTITIONS)
    assert sorted(keys) == sorted(p.name for p in RAW.iterdir() if p.suffix in (".pdf", ".txt"))
    figures = {}
    for key in keys:
        result = _materialize(settings, key, instance)
        assert result.success, key
        figures[key] = _metadata(result)
    loaded = dict(query(cli_warehouse, "select report_file, count(*) from indicator_values group by 1"))
    assert {k: f["rows_valid"] for k, f in figures.items()} == loaded  # each partition's rows, as the CLI loads them
    assert figures[HV_T1_2014]["rows"] == 67 and figures[HV_T1_2014]["extracted"] is True
    assert figures[HV_T1_2014]["pages"] > 1 and figures[HV_T1_2014]["seconds"] > 0
    # a partition flags what its reading found; a unit taken from the indicator is decided over all reports
    read_flagged = query(
        cli_warehouse,
        "select count(*) from fact_indicator_value"
        " where coalesce(regexp_replace(quality_flag, ',?unit_from_indicator', ''), '') <> ''",
    )[0][0]
    assert sum(f["rows_flagged"] for f in figures.values()) == read_flagged
    assert read_flagged < cli_summary["rows_flagged"]  # the samples have rows without a printed unit
    assert instance.get_materialized_partitions(dg.AssetKey("report_results")) == set(keys)

    monkeypatch.setattr(extract, "_Worker", no_extraction)  # the warehouse reads what the partitions left
    monkeypatch.setattr(extract, "read_txt", no_extraction)
    result = build_definitions(settings).resolve_job_def("build_warehouse").execute_in_process(instance=instance)
    assert result.success
    summary = dict(query(settings.warehouse, "select metric, value from build_summary"))
    assert summary["files_extracted"] == 0 and summary["reports_from_cache"] == len(keys)
    assert summary["validations_from_cache"] == len(keys)
    assert relation_rows(settings.warehouse) == relation_rows(cli_warehouse)
    cell = query(
        settings.warehouse,
        "select outcome, target from indicator_values where report_file = ? and indicator_as_printed = ?",
        HV_T1_2014,
        WELFARE_2014,
    )
    assert cell == [(5.79, 5.5)]


def test_the_partitions_executor_is_chosen_by_configuration():
    assert report_executor("").name == "multiprocess" and report_executor("in_process").name == "in_process"
    with pytest.raises(ValueError, match="INDICATORS_EXECUTOR=k8s needs dagster-k8s installed"):
        report_executor("k8s")  # not installed here; on a cluster's image it is
    with pytest.raises(ValueError, match="is not one of multiprocess, in_process, k8s"):
        report_executor("slurm")
    config = report_executor_config('{"broker": "redis://queue:6379/0"}')
    assert config == {"execution": {"config": {"broker": "redis://queue:6379/0"}}}
    assert report_executor_config("") is None


def test_a_batch_of_reports_is_one_run_with_the_batchs_figures(tmp_path):
    raw = make_raw(tmp_path / "raw", "004", "000")
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    instance = dg.DagsterInstance.ephemeral()
    sync_partitions(instance, report_names(raw))
    keys = instance.get_dynamic_partitions(REPORTS_PARTITIONS)
    batch = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    resources = {"settings": settings, NOTHING_STORED: nothing_stored}
    result = dg.materialize([report_results], instance=instance, resources=resources, tags=batch)
    assert result.success
    events = result.asset_materializations_for_node("report_results")
    assert sorted(e.partition for e in events) == sorted(keys)
    figures = events[0].metadata
    assert (figures["reports"].value, figures["rows"].value, figures["extracted"].value) == (2, 77, 2)
    assert f"| {sample_name('000')} | " in figures["each_report"].value
    assert reports_per_run("") == 1 and reports_per_run("100") == 100
    with pytest.raises(ValueError, match="INDICATORS_REPORTS_PER_RUN must be a whole number"):
        reports_per_run("0")
