"""Dagster definitions: the assets, one job that builds everything, and the nightly schedule.

`dagster dev -m pipeline.definitions` shows the asset graph; `indicators build` runs the same job
in-process.
"""

import dagster as dg

from pipeline.assets import ALL_ASSETS, BuildSettings

build_warehouse_job = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Discover, extract, parse, normalize, validate and load every report in the raw folder.",
    # One process: the per-file work fans out inside the extract asset; a process per step
    # would cost seconds each on a small machine.
    executor_def=dg.in_process_executor,
)

nightly_build = dg.ScheduleDefinition(
    name="nightly_build",
    job=build_warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Stockholm",
)



def build_definitions(settings: BuildSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[build_warehouse_job],
        schedules=[nightly_build],
        resources={"settings": settings or BuildSettings()},
    )


defs = build_definitions()
