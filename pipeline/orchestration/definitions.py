"""Dagster definitions: the assets, one job that builds everything, the nightly schedule and the
sensor that builds when the raw folder changes (pipeline/orchestration/sensors.py).

`make dev` shows the asset graph; `indicators build` runs the same job in-process (recorded in the
instance at $DAGSTER_HOME when it is set).
"""

import dagster as dg

from pipeline.orchestration.assets import ALL_ASSETS
from pipeline.orchestration.executors import report_executor, report_executor_config
from pipeline.orchestration.partitions import NOTHING_STORED, PARTITION_ASSETS, nothing_stored
from pipeline.orchestration.sensors import raw_folder_sensor
from pipeline.orchestration.settings import BuildSettings
from pipeline.orchestration.tables import RELATION_ASSETS

# Run-level retries (the daemon starts the run again; needs `run_retries: enabled` in dagster.yaml) are
# for a run that died (killed, out of memory), not for a failed step: a step that failed for a transient
# reason has retried itself (assets.py), and a failed quality gate fails the same way every time.
BUILD_RUN_TAGS = {
    "dagster/max_retries": "2",
    "dagster/retry_strategy": "ALL_STEPS",  # staging folders are per run: start from the top
    "dagster/retry_on_asset_or_op_failure": "false",
    "indicators/build": "warehouse",  # dagster.yaml limits runs with this tag to one at a time
}

build_warehouse_job = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.assets(*ALL_ASSETS, *RELATION_ASSETS),
    description="Discover, extract, parse, normalize, validate and load every report in the raw folder.",
    # One process: the per-file work fans out inside the extract asset; a process per step
    # would cost seconds each on a small machine.
    executor_def=dg.in_process_executor,
    tags=BUILD_RUN_TAGS,
    # The console of `make dev` shows INFO and above of each run; the UI keeps every event.
    config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
)

# A backfill of the report partitions: one run per report (a run launcher in dagster.yaml puts each
# where it should run: a process here, a Kubernetes job or a container on a cluster), each one step.
build_reports_job = dg.define_asset_job(
    "build_reports",
    selection=dg.AssetSelection.assets(*PARTITION_ASSETS),
    description="Extract, parse, normalize and validate one report (a partition) into the shared cache; "
    "a backfill of every partition followed by build_warehouse loads without extracting again.",
    executor_def=report_executor(),
    config=report_executor_config(),
    tags={"indicators/partition": "report"},  # not indicators/build: dagster.yaml runs those one at a time
)

nightly_build = dg.ScheduleDefinition(
    name="nightly_build",
    job=build_warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Stockholm",
    default_status=dg.DefaultScheduleStatus.RUNNING,  # on as soon as a daemon runs: unattended nightly
)


def build_definitions(settings: BuildSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ALL_ASSETS, *PARTITION_ASSETS, *RELATION_ASSETS],
        jobs=[build_warehouse_job, build_reports_job],
        schedules=[nightly_build],
        sensors=[raw_folder_sensor],
        # Outputs pass between the assets in memory (one process runs the job): Dagster's default
        # would pickle each into $DAGSTER_HOME/storage and unpickle it for the next asset. The report
        # partitions have no output: their results are sealed into the cache.
        resources={
            "settings": settings or BuildSettings(),
            "io_manager": dg.mem_io_manager,
            NOTHING_STORED: nothing_stored,
        },
    )


defs = build_definitions()
