"""Dagster's code location (`dagster ... -m pipeline.definitions`): the definitions of pipeline/orchestration/."""

from pipeline.orchestration.definitions import build_definitions, build_warehouse_job, defs, nightly_build

__all__ = ["build_definitions", "build_warehouse_job", "defs", "nightly_build"]
