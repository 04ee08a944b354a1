"""Validate indicator data with Great Expectations suites kept as JSON in expectations/.

Takes a frame (Polars for the normalized facts, pandas for a table read from a new warehouse) and
the name of a suite; gives one ExpectationOutcome per expectation (success, counts, a sample of the
unexpected rows, whether it is blocking) and, for the facts suite, the frame split in two: rows that
meet every quarantining expectation (loaded as facts) and the rest (quarantined with the reason).

Each expectation's `meta` says what a failure means:
  blocking: true    a failure stops the new warehouse from replacing the old one (pipeline/warehouse/gates.py)
  quarantine: true  (facts suite) the failing rows go to the quarantine table instead of the facts
  why               one line for the person reading validation_results

Also here: the rule for two different reports claiming the same district, unit and period.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

from pipeline.common.models import MEASURES, LoadError
from pipeline.common.paths import EXPECTATIONS_DIR

log = logging.getLogger(__name__)

FACTS_SUITE = "indicator_facts"
ROW_ID = "_row_id"
# Columns that name a facts row in a sample, so a person can find it in the report.
FACTS_ROW_NAME = ("report_file", "row_no")
# How many unexpected rows an outcome keeps as a sample for validation_results and the asset checks.
SAMPLE_ROWS = 10
SUPERSEDED = "superseded by"
PERCENT, COUNT = "%", "st"
# Added to the facts for the suite (with_check_columns), dropped before the load.
CHECK_COLUMNS = ("percent_min", "percent_max", "count_min")
# Facts validated per suite run: bounded memory, and few runs (each costs ~0.5 s of GX overhead).
VALIDATE_BATCH_ROWS = 50_000
# A value set longer than this is shown by its size in an expectation's one-line description.
SHOWN_SET_VALUES = 6


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    blocking: bool
    suite: str = FACTS_SUITE
    detail: str = ""  # the expectation with its arguments, e.g. expect_column_values_to_be_between(year, ...)
    why: str = ""
    sample: list[dict[str, Any]] = field(default_factory=list)  # some unexpected rows or values
    observed: str | None = None  # table-level expectations: the observed value
    # Set on one report's share of a row-level outcome (validate_reports), so shares add up to the
    # outcome of one run over all their rows: `mostly` of the expectation, rows with a value.
    mostly: float | None = None
    nonnull_count: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.suite, self.detail

    @property
    def failed_blocking(self) -> bool:
        return self.blocking and not self.success

    def line(self) -> str:
        """One line for a log or an error message."""
        counts = (
            f"{self.unexpected_count} of {self.element_count} rows unexpected"
            if self.observed is None
            else f"observed {self.observed}"
        )
        return f"{self.suite}: {self.detail}: {counts}"


@dataclass
class Validation:
    valid: pl.DataFrame
    quarantined: pl.DataFrame  # the failed rows with a `reason` column
    outcomes: list[ExpectationOutcome] = field(default_factory=list)


def load_suite_json(name: str) -> dict:
    with open(EXPECTATIONS_DIR / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def suite_names() -> list[str]:
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


@cache
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    # GX pins this module's logger at INFO, so every build printed a line about a temporary docs folder;
    # let it follow the application's level (INDICATORS_LOG=INFO still shows it).
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.NOTSET)
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
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("column", "batch_id") and v is not None}
    if "row_condition" in kwargs:
        kwargs["row_condition"] = _condition_text(kwargs["row_condition"])
    if len(kwargs.get("value_set") or ()) > SHOWN_SET_VALUES:
        kwargs["value_set"] = f"<{len(kwargs['value_set'])} values>"
    detail = ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
    column = config.kwargs.get("column") or ""
    return f"{config.type}({column}{', ' if column and detail else ''}{detail})"


def _condition_text(condition) -> str:
    if isinstance(condition, dict):  # as in the suite JSON: column.name, operator, parameter
        return f"{condition['column']['name']} {condition['operator']} {condition['parameter']!r}"
    return repr(condition)


def _plain(value: Any) -> Any:
    """numpy scalars and NaN as plain JSON values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _plain_row(row: Any) -> dict[str, Any]:
    if isinstance(row, dict):
        return {k: _plain(v) for k, v in row.items() if k != ROW_ID}
    return {"row": _plain(row)}


def _sample(res: dict, limit: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
    rows = res.get("unexpected_index_list") or res.get("partial_unexpected_index_list") or []
    if rows:
        return [_plain_row(row) for row in rows[:limit]]
    values = res.get("partial_unexpected_list") or []
    return [
        {"value": _plain(v)} if not isinstance(v, dict) else {k: _plain(x) for k, x in v.items()}
        for v in values[:limit]
    ]


def _outcome(suite_name: str, r, element_count: int) -> ExpectationOutcome:
    cfg = r.expectation_config
    meta = cfg.meta or {}
    res = r.result or {}
    observed = res.get("observed_value")
    if r.exception_info and r.exception_info.get("raised_exception"):
        # An expectation that could not run (missing column, wrong type) is a failed one.
        message = str(r.exception_info.get("exception_message", ""))[:200]
        log.error("expectation %s of suite %s raised: %s", cfg.type, suite_name, message)
        observed = f"error: {message}"
    return ExpectationOutcome(
        expectation=cfg.type,
        column=cfg.kwargs.get("column"),
        success=bool(r.success),
        unexpected_count=int(res.get("unexpected_count") or 0),
        element_count=int(element_count if res.get("element_count") is None else res["element_count"]),
        blocking=bool(meta.get("blocking", False)),
        suite=suite_name,
        detail=_describe(cfg),
        why=str(meta.get("why", "")),
        sample=_sample(res),
        observed=None if observed is None else str(_plain(observed)),
    )


def run_suite(frame, suite_name: str, id_columns: Sequence[str] = (), complete: bool = False):
    """Run a suite over a pandas frame; gives (outcomes, raw GX results)."""
    _, batch_definition = _context()
    index_columns = [c for c in id_columns if c in frame.columns]
    result_format: dict[str, Any] = {"result_format": "COMPLETE" if complete else "SUMMARY"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
        _suite(suite_name), result_format=result_format
    )
    outcomes = [_outcome(suite_name, r, len(frame)) for r in result.results]
    return outcomes, result.results


def merge_outcome(totals: dict[tuple[str, str], ExpectationOutcome], outcome: ExpectationOutcome) -> None:
    """Add one file's outcome to the build's totals (a suite run per file, counted once per build)."""
    total = totals.get(outcome.key)
    if total is None:
        totals[outcome.key] = ExpectationOutcome(**{**vars(outcome), "sample": list(outcome.sample)})
        return
    total.unexpected_count += outcome.unexpected_count
    total.element_count += outcome.element_count
    total.sample = (total.sample + outcome.sample)[:SAMPLE_ROWS]
    if total.nonnull_count is not None and outcome.nonnull_count is not None:  # two reports' shares
        total.nonnull_count += outcome.nonnull_count
        total.success = _share_success(total)
    else:
        total.success &= outcome.success


def _share_success(o: ExpectationOutcome) -> bool:
    """GX's verdict on a row-level expectation from its counts: no unexpected row, or few enough for `mostly`."""
    if o.mostly is None:
        return o.unexpected_count == 0
    nonnull = o.nonnull_count or 0
    return nonnull == 0 or (nonnull - o.unexpected_count) / nonnull >= o.mostly


def in_batches(frames: Iterable[pl.DataFrame], max_rows: int) -> Iterator[pl.DataFrame]:
    """Frames of one schema joined into batches of about `max_rows` rows (a frame is never split)."""
    pending: list[pl.DataFrame] = []
    rows = 0
    for frame in frames:
        pending.append(frame)
        rows += frame.height
        if rows >= max_rows:
            yield pl.concat(pending, how="vertical_relaxed")
            pending, rows = [], 0
    if pending:
        yield pl.concat(pending, how="vertical_relaxed")


def validate_frame(frame: pl.DataFrame, suite_name: str = FACTS_SUITE) -> Validation:
    """Run a suite over one frame; rows failing a quarantining expectation go to quarantine with its name."""
    if frame.is_empty():
        return Validation(frame, frame.with_columns(pl.lit(None, pl.String).alias("reason")), [])
    indexed, outcomes, results = _run_indexed(frame, suite_name)
    valid, quarantined = _split_quarantine(indexed, outcomes, results)
    return Validation(valid, quarantined, outcomes)


def _run_indexed(frame: pl.DataFrame, suite_name: str, id_columns: Sequence[str] = FACTS_ROW_NAME):
    indexed = with_check_columns(frame).with_row_index(ROW_ID)
    outcomes, results = run_suite(indexed.to_pandas(), suite_name, (ROW_ID, *id_columns), complete=True)
    return indexed, outcomes, results


def _split_quarantine(indexed: pl.DataFrame, outcomes, results) -> tuple[pl.DataFrame, pl.DataFrame]:
    reasons: dict[int, list[str]] = {}
    for outcome, r in zip(outcomes, results, strict=True):
        if not (r.expectation_config.meta or {}).get("quarantine", False):
            continue  # a warning: counted in the outcome, the rows still load
        for item in (r.result or {}).get("unexpected_index_list") or []:
            reasons.setdefault(_row_id(item), []).append(outcome.detail)
    bad = pl.DataFrame(
        {ROW_ID: list(reasons), "reason": ["; ".join(v) for v in reasons.values()]},
        schema={ROW_ID: pl.UInt32, "reason": pl.String},
    )
    quarantined = indexed.join(bad, on=ROW_ID, how="inner").drop(ROW_ID, *CHECK_COLUMNS, strict=False)
    valid = indexed.join(bad, on=ROW_ID, how="anti").drop(ROW_ID, *CHECK_COLUMNS, strict=False)
    return valid, quarantined


def _row_id(item) -> int:
    return int(item[ROW_ID]) if isinstance(item, dict) else int(item)


REPORT_ID = "report_id"


def validate_reports(
    frame: pl.DataFrame, suite_name: str = FACTS_SUITE, id_columns: Sequence[str] = FACTS_ROW_NAME
) -> dict[str, Validation]:
    """validate_frame over the rows of several reports in one suite run (GX costs ~0.5 s a run),
    its result split per report (column report_id): each report's valid and quarantined rows, and its
    share of every outcome, so that a report's result can be kept and merged again with others'.
    `id_columns` name a row in the samples of unexpected rows."""
    if frame.is_empty():
        return {}
    indexed, outcomes, results = _run_indexed(frame, suite_name, id_columns)
    valid, quarantined = _split_quarantine(indexed, outcomes, results)
    report_of = indexed[REPORT_ID].to_list()  # by row id
    reports = list(dict.fromkeys(report_of))
    rows = {r: 0 for r in reports}
    for r in report_of:
        rows[r] += 1
    shares: dict[str, list[ExpectationOutcome]] = {r: [] for r in reports}
    for outcome, r in zip(outcomes, results, strict=True):
        for report, share in _outcome_shares(outcome, r, indexed, report_of, rows).items():
            shares[report].append(share)
    return {
        r: Validation(valid.filter(pl.col(REPORT_ID) == r), quarantined.filter(pl.col(REPORT_ID) == r), shares[r])
        for r in reports
    }


def _outcome_shares(
    outcome: ExpectationOutcome, r, indexed: pl.DataFrame, report_of: list[str], rows: dict[str, int]
) -> dict[str, ExpectationOutcome]:
    """One outcome cut into each report's share: its rows, its unexpected rows, its sample."""
    items = (r.result or {}).get("unexpected_index_list") or []
    column = outcome.column
    # a multi-column expectation (compound keys unique) counts every row; a column one its values
    checked_column = column in indexed.columns if column else "column_list" in r.expectation_config.kwargs
    splittable = outcome.observed is None and len(items) == outcome.unexpected_count and checked_column
    if not splittable:  # an expectation that could not run fails for every report alike
        return {report: ExpectationOutcome(**{**vars(outcome), "sample": list(outcome.sample)}) for report in rows}
    mostly = r.expectation_config.kwargs.get("mostly")
    by_report: dict[str, list] = {report: [] for report in rows}
    for item in items:
        by_report[report_of[_row_id(item)]].append(item)
    counted = pl.col(column).is_not_null().sum() if column else pl.len()
    nonnull = dict(indexed.group_by(REPORT_ID).agg(counted.alias("_nonnull")).iter_rows())
    shares = {}
    for report, found in by_report.items():
        share = ExpectationOutcome(
            **{
                **vars(outcome),
                "unexpected_count": len(found),
                "element_count": rows[report],
                "sample": [_plain_row(item) for item in found[:SAMPLE_ROWS]],
                "mostly": None if mostly is None else float(mostly),
                "nonnull_count": int(nonnull.get(report, 0)),
            }
        )
        share.success = _share_success(share)
        shares[report] = share
    return shares


def with_check_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """The facts with what the suite checks across a row's measures: its smallest and largest value
    when the row is in percent, its smallest when it counts (st). One expectation then covers all seven
    measures, where a row condition per measure would cost GX a filter each."""
    measures = [m for m in MEASURES if m in frame.columns]
    if not measures or "unit" not in frame.columns or set(CHECK_COLUMNS) <= set(frame.columns):
        return frame  # nothing to compute from, or computed already (the warehouse's check frame)
    unit = pl.col("unit")
    return frame.with_columns(
        pl.when(unit == PERCENT).then(pl.min_horizontal(measures)).alias("percent_min"),
        pl.when(unit == PERCENT).then(pl.max_horizontal(measures)).alias("percent_max"),
        pl.when(unit == COUNT).then(pl.min_horizontal(measures)).alias("count_min"),
    )


# --- two reports for one district, unit and period ------------------------------------------


def report_scope(meta) -> tuple:
    """What a report reports on: the same scope twice would count every indicator twice."""
    return meta.district, meta.org_unit, meta.report_type, meta.year, meta.tertial


def keep_one_report_per_scope(files: list) -> tuple[list, list[LoadError]]:
    """Of reports (steps.ParsedFile) with the same scope, keep the one with the most indicator rows.

    Two different files that claim the same district, unit, report type and period are two versions
    of one report (a re-issue, a mislabelled manifest row): loading both would double every figure
    a BI query sums. One whose scope was read from its cover or manifest row wins over one whose scope
    was guessed from its body (an annual report without a cover typed from its "Tertial 1" cells must not
    replace the real T1); then the fuller one (more rows read), and a tie goes to the name that sorts
    first; the other is named in load_errors with the winner, so a person can swap them if they disagree.
    """
    by_scope: dict[tuple, list] = {}
    for parsed in files:
        by_scope.setdefault(report_scope(parsed.meta), []).append(parsed)
    kept, errors = [], []
    for group in by_scope.values():
        ranked = sorted(group, key=lambda p: (p.meta.from_body(), -p.rows, p.file.name))
        winner = ranked[0]
        kept.append(winner)
        for loser in ranked[1:]:
            if loser.meta.from_body() and not winner.meta.from_body():
                why = (
                    f"this file's council, type or year were read from its body, {winner.file.name}'s from its "
                    "cover or manifest row (remove or correct the other file to choose)"
                )
            else:
                why = (
                    f"{winner.file.name} has {winner.rows} indicator rows, this file {loser.rows} "
                    "(the fuller one loads; remove or correct the other file to choose)"
                )
            errors.append(
                LoadError(
                    loser.file.name,
                    "parse",
                    f"{SUPERSEDED} {winner.file.name}: both report {_scope_text(winner.meta)}; {why}",
                )
            )
    order = {id(p): i for i, p in enumerate(files)}
    kept.sort(key=lambda p: order[id(p)])
    return kept, errors


def _scope_text(meta) -> str:
    unit = f" / {meta.org_unit}" if meta.org_unit else ""
    tertial = f" T{meta.tertial}" if meta.tertial else ""
    return f"{meta.district}{unit}, {meta.report_type} {meta.year}{tertial}"
