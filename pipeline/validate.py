"""Validate normalized indicator rows with Great Expectations.

Takes a facts frame (Polars), gives it split in two: rows that meet every row-level expectation
(loaded as facts) and the rest (quarantined, with the reason), plus a summary per expectation for
the Dagster asset checks. Suites are JSON files in expectations/, loaded into an ephemeral GX
context; GX reads pandas, so the frame is converted at this boundary only.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

log = logging.getLogger(__name__)

EXPECTATIONS_DIR = Path(os.environ.get("INDICATORS_EXPECTATIONS", Path(__file__).parent.parent / "expectations"))
FACTS_SUITE = "indicator_facts"
ROW_ID = "_row_id"


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    blocking: bool


@dataclass
class Validation:
    valid: pl.DataFrame
    quarantined: pl.DataFrame  # the failed rows with a `reason` column
    outcomes: list[ExpectationOutcome] = field(default_factory=list)


def load_suite_json(name: str) -> dict:
    with open(EXPECTATIONS_DIR / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = {"globally": False}
    except Exception:  # noqa: BLE001 - only cosmetic
        pass
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset(name="frame")
    return context, asset.add_batch_definition_whole_dataframe("whole")


@cache
def _suite(name: str):
    import great_expectations as gx

    context, _ = _context()
    spec = load_suite_json(name)
    spec.pop("id", None)
    return context.suites.add(gx.ExpectationSuite(**spec))


def _describe(config) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("column", "batch_id")}
    detail = ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
    column = config.kwargs.get("column")
    return f"{config.type}({column}{', ' + detail if detail else ''})"


def validate_frame(frame: pl.DataFrame, suite_name: str = FACTS_SUITE) -> Validation:
    """Run a suite over one frame; rows failing an expectation go to quarantine with its name."""
    if frame.is_empty():
        return Validation(frame, frame.with_columns(pl.lit(None, pl.String).alias("reason")), [])
    _, batch_definition = _context()
    indexed = frame.with_row_index(ROW_ID)
    pandas_frame = indexed.to_pandas()
    result = batch_definition.get_batch(batch_parameters={"dataframe": pandas_frame}).validate(
        _suite(suite_name),
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
    )
    reasons: dict[int, list[str]] = {}
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        blocking = bool(meta.get("blocking", False))
        res = r.result or {}
        outcomes.append(
            ExpectationOutcome(cfg.type, cfg.kwargs.get("column"), bool(r.success),
                               int(res.get("unexpected_count") or 0), int(res.get("element_count") or len(frame)),
                               blocking)
        )
        if not meta.get("quarantine", False):
            continue  # a warning: counted in the outcome, the rows still load
        for item in res.get("unexpected_index_list") or []:
            row_id = int(item[ROW_ID]) if isinstance(item, dict) else int(item)
            reasons.setdefault(row_id, []).append(_describe(cfg))
    bad = pl.DataFrame(
        {ROW_ID: list(reasons), "reason": ["; ".join(v) for v in reasons.values()]},
        schema={ROW_ID: pl.UInt32, "reason": pl.String},
    )
    quarantined = indexed.join(bad, on=ROW_ID, how="inner").drop(ROW_ID)
    valid = indexed.join(bad, on=ROW_ID, how="anti").drop(ROW_ID)
    return Validation(valid, quarantined, outcomes)
