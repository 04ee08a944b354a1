"""The unattended nightly: schedule, the raw-folder sensor, run retries, and a failed run that says why."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.cli import run_build
from pipeline.definitions import build_definitions, defs
from pipeline.orchestration.definitions import BUILD_RUN_TAGS
from pipeline.orchestration.sensors import SETTLE_S, evaluate_raw_folder, raw_folder_sensor, raw_folder_state

from .build_helpers import ROOT, make_raw, sample_name, settings_for

LONG_AGO_S = 3600.0


def _age(folder: Path, seconds: float) -> None:
    """Set every file's mtime `seconds` into the past (as if copied in a while ago)."""
    then = time.time() - seconds
    for path in folder.iterdir():
        os.utime(path, (then, then))


def test_the_nightly_schedule_is_on_by_default():
    schedule = defs.resolve_schedule_def("nightly_build")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/Stockholm")
    assert schedule.job_name == "build_warehouse"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_build_job_retries_a_run_that_died_but_not_a_failed_gate():
    tags = defs.resolve_job_def("build_warehouse").tags
    assert tags["dagster/max_retries"] == BUILD_RUN_TAGS["dagster/max_retries"] != "0"
    assert tags["dagster/retry_on_asset_or_op_failure"] == "false"
    assert tags["dagster/retry_strategy"] == "ALL_STEPS"


def test_the_instance_config_enables_run_retries_and_one_build_at_a_time(tmp_path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "indicators/build", "limit": 1} in limits
    finally:
        instance.dispose()


def test_the_sensor_is_registered_for_the_build_job():
    sensor = defs.resolve_sensor_def("raw_folder_sensor")
    assert sensor.job_name == "build_warehouse"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_fingerprint_changes_with_names_sizes_and_times(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    first = raw_folder_state(raw).fingerprint
    assert raw_folder_state(raw).fingerprint == first
    (raw / ".partial-upload").write_text("x")  # hidden files do not count
    assert raw_folder_state(raw).fingerprint == first
    (raw / sample_name("004")).rename(raw / "renamed.txt")
    renamed = raw_folder_state(raw).fingerprint
    assert renamed != first
    _age(raw, LONG_AGO_S)
    assert raw_folder_state(raw).fingerprint != renamed


def test_the_sensor_starts_a_build_when_a_file_changes(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    _age(raw, LONG_AGO_S)
    wh = tmp_path / "wh" / "indicators.duckdb"
    now = time.time()

    request, cursor = evaluate_raw_folder(raw, wh, None, now)  # no warehouse yet: build
    assert isinstance(request, dg.RunRequest) and request.run_key == cursor == raw_folder_state(raw).fingerprint

    skip, same = evaluate_raw_folder(raw, wh, cursor, now)
    assert isinstance(skip, dg.SkipReason) and same == cursor and "no change" in skip.skip_message

    make_raw(raw, "000")  # a new file, still being copied
    waiting, unchanged = evaluate_raw_folder(raw, wh, cursor, now)
    assert isinstance(waiting, dg.SkipReason) and unchanged == cursor and "waiting" in waiting.skip_message

    request, new_cursor = evaluate_raw_folder(raw, wh, cursor, now + SETTLE_S + 1)
    assert isinstance(request, dg.RunRequest) and new_cursor != cursor


def test_the_sensor_switched_on_over_a_fresh_warehouse_only_starts_watching(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    _age(raw, LONG_AGO_S)
    wh = tmp_path / "indicators.duckdb"
    wh.write_bytes(b"")  # newer than every raw file
    skip, cursor = evaluate_raw_folder(raw, wh, None, time.time())
    assert isinstance(skip, dg.SkipReason) and cursor == raw_folder_state(raw).fingerprint
    missing, _ = evaluate_raw_folder(tmp_path / "nowhere", wh, None, time.time())
    assert isinstance(missing, dg.SkipReason) and "does not exist" in missing.skip_message


def test_the_sensor_keeps_its_cursor_in_dagster(tmp_path):
    raw = make_raw(tmp_path / "raw", "004")
    _age(raw, LONG_AGO_S)
    settings = settings_for(raw, tmp_path / "wh" / "indicators.duckdb")
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(resources={"settings": settings}, instance=instance) as context:
        result = raw_folder_sensor(context)
        assert [r.run_key for r in result.run_requests] == [raw_folder_state(raw).fingerprint]
        assert result.cursor == raw_folder_state(raw).fingerprint
        context.update_cursor(result.cursor)
        again = raw_folder_sensor(context)
        assert not again.run_requests and "no change" in again.skip_reason.skip_message


@pytest.fixture
def failing_nightly(tmp_path):
    """A warehouse of sample 004, then its file in raw/ cut to its cover: the next build must fail."""
    raw = make_raw(tmp_path / "raw", "004")
    wh = tmp_path / "wh" / "indicators.duckdb"
    assert run_build(settings_for(raw, wh))[0]
    path = raw / sample_name("004")
    path.write_bytes(path.read_bytes()[:2000])
    return settings_for(raw, wh)


def test_a_failed_run_says_why_in_its_logs(failing_nightly):
    instance = dg.DagsterInstance.ephemeral()
    result = (
        build_definitions(failing_nightly)
        .resolve_job_def("build_warehouse")
        .execute_in_process(raise_on_error=False, instance=instance)
    )
    assert not result.success
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(m.startswith("blocking check failed: report_row_counts") and sample_name("004") in m for m in messages)
    assert any("quality gate failed (1 blocking)" in m and "rejected warehouse kept at" in m for m in messages)
