"""The quality gate between building a new warehouse and swapping it in, and the build's crash safety.

Takes the staging folder of a build, the warehouse path, the load errors and summary, the files found
in the raw folder and the outcomes of the row-level facts suite. `build_and_publish` then, holding
the build lock:
  1. removes what killed builds left behind (half-built files, staging folders of dead builds),
  2. builds a complete new warehouse file beside the current one (load.build_candidate),
  3. reads each table of it, read-only, into a check frame (sql/checks/<suite>.sql) and runs the
     Great Expectations suite of the same name (expectations/<suite>.json) on it; report_row_counts
     compares reports and rows per report with the previous warehouse, whose figures come from the
     record written when it was published (`.<name>.published.json`, checksummed), so a previous
     warehouse that is locked or damaged never turns the comparison off,
  4. records every outcome in the new file's validation_results table,
  5. publishes it with one atomic rename and writes its record, or, when a blocking expectation
     failed, moves it to warehouse/rejected/ for inspection and leaves the previous warehouse in place.
It gives a BuildOutcome: published or not, the one-line reason, the gate's outcomes and figures.

The build lock and leftovers are in pipeline/warehouse/housekeeping.py, the record of the published
warehouse in pipeline/warehouse/published.py.
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl

from pipeline.common.faults import fault_point
from pipeline.common.models import LoadError
from pipeline.warehouse.holdback import (
    GATE_STAGE,
    REPORT_SUITES,
    HeldBack,
    Restaging,
    failing_reports,
    held_outcomes,
    hold_back,
    loaded_figures,
    report_years,
    staged_repeats,
    verdict,
)
from pipeline.warehouse.housekeeping import (
    WarehouseBusy,
    keep_rejected,
    refuse_to_replace,
    remove_leftovers,
    remove_stale_staging,
    warehouse_lock,
)
from pipeline.warehouse.load import (
    SQL_DIR,
    build_candidate,
    publish,
    record_validation,
    reports_to_load,
)
from pipeline.warehouse.published import (
    held_for_writing,
    previous_counts,
    published_intact,
    report_counts,
    write_record,
)
from pipeline.warehouse.validate import (
    REPORT_ID,
    SUPERSEDED,
    ExpectationOutcome,
    load_suite_json,
    merge_outcome,
    run_suite,
    validate_reports,
)
from pipeline.warehouse.value_changes import VALUE_CHANGE_LIMIT, value_changes

log = logging.getLogger(__name__)

# The suites run on the tables of a new warehouse, each with its check frame in sql/checks/.
WAREHOUSE_SUITES: tuple[str, ...] = (
    "fact_indicator_value",
    "dim_report",
    "dim_goal",
    "dim_district",
    "dim_indicator",
    "quarantine",
    "load_errors",
    "report_row_counts",
)
ROW_COUNT_SUITE = "report_row_counts"
# Suites over each report's own rows: run on the reports a build loads, each report's share of every
# outcome kept in validation_shares, the totals added up from the shares (as one run over all rows).
# These and dim_report (every report, each build) are judged per report too (REPORT_SUITES,
# pipeline/warehouse/holdback.py): a report failing a blocking expectation on its own rows is held back.
SHARED_SUITES = ("fact_indicator_value", "dim_goal")
CHECKS_DIR = SQL_DIR / "checks"
PRELUDE = "_prelude"  # temporary views the frames share
# How many failing expectations, and how many lost reports, the one-line reason names.
REASON_FAILURES = 3
LOST_SHOWN = 5
# How often a build holds back reports and builds its new warehouse again without them; a report left
# out changes what depends on all of them (an indicator's unit), so another may fail only then.
HOLD_BACK_ROUNDS = 3
# The load step retries a transient failure this often, waiting this long (BuildSettings.retry_wait_s).
TRANSIENT_RETRIES = 3
DEFAULT_RETRY_WAIT_S = 30.0
# I/O errors that may pass: a full or flaky disk, a network filesystem that went away for a moment.
TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE}


def is_transient(exc: BaseException) -> bool:
    """Whether the same build may well succeed a little later (then it is retried, not failed)."""
    if isinstance(exc, (WarehouseBusy, duckdb.IOException, TimeoutError)):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


@dataclass
class GateReport:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # reports whose own rows (facts, goals) the gate read
    shares: list[tuple[str, str, str]] = field(default_factory=list)  # validation_shares rows of those
    # per suite of REPORT_SUITES: each report's share of its outcomes (the reports whose rows were read)
    report_shares: dict[str, dict[str, list[ExpectationOutcome]]] = field(default_factory=dict)
    held_back: list[HeldBack] = field(default_factory=list)  # reports left out of the new warehouse
    values_changed: int = 0  # values of published reports read again that differ from those published

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.failed_blocking]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and not o.blocking]

    def by_suite(self) -> dict[str, list[ExpectationOutcome]]:
        suites: dict[str, list[ExpectationOutcome]] = {}
        for o in self.outcomes:
            suites.setdefault(o.suite, []).append(o)
        return suites

    def figures(self) -> dict[str, int]:
        """The gate's lines of the build summary."""
        return {
            "checks_run": len(self.outcomes),
            "checks_failed_blocking": len(self.blocking_failures),
            "checks_warned": len(self.warnings),
            "reports_gate_checked": len(self.checked),
            "reports_held_back": len(self.held_back),
            "values_changed": self.values_changed,
        }

    def failing_reports(self) -> dict[str, list[ExpectationOutcome]]:
        """Reports whose own rows fail a blocking expectation, with those failures."""
        return failing_reports(self.report_shares)

    def reason(self) -> str:
        """One line: what blocked the swap."""
        failures = self.blocking_failures
        named = "; ".join(failure_text(o) for o in failures[:REASON_FAILURES])
        more = f"; and {len(failures) - REASON_FAILURES} more" if len(failures) > REASON_FAILURES else ""
        return f"quality gate failed ({len(failures)} blocking): {named}{more}"

    def rows(self, run_id: str, run_at: datetime) -> list[tuple]:
        """validation_results rows, in the column order of sql/schema.sql."""
        return [
            (
                run_id,
                run_at,
                o.suite,
                o.expectation,
                o.column,
                o.detail,
                o.success,
                o.blocking,
                o.unexpected_count,
                o.element_count,
                o.observed,
                json.dumps(o.sample, ensure_ascii=False, default=str) if o.sample else None,
                o.why,
            )
            for o in sorted(self.outcomes, key=lambda o: (o.suite, o.detail))
        ]


def failure_text(o: ExpectationOutcome) -> str:
    """One line for a log: the suite, the expectation, its counts and a few of the rows that failed it."""
    if o.observed is not None:  # a table-level outcome says it all in its observed value
        return o.line()
    rows = "; ".join(_row_text(row) for row in o.sample[:REASON_FAILURES])
    return f"{o.line()}{f' (e.g. {rows})' if rows else ''}"


def _row_text(row: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def check_metadata(outcomes: Sequence[ExpectationOutcome]) -> dict[str, Any]:
    """A suite's numbers for its Dagster asset check: counts, and each failing expectation's."""
    failed = [o for o in outcomes if not o.success]
    return {
        "expectations": len(outcomes),
        "failed_blocking": sum(1 for o in failed if o.blocking),
        "warnings": sum(1 for o in failed if not o.blocking),
        "unexpected_rows": sum(o.unexpected_count for o in outcomes),
        "failures": {o.detail: _failure_numbers(o) for o in failed},
    }


def _failure_numbers(o: ExpectationOutcome) -> dict[str, Any]:
    return {
        "unexpected": o.unexpected_count,
        "of": o.element_count,
        "blocking": o.blocking,
        "observed": o.observed,
        "sample": o.sample[:REASON_FAILURES],
    }


@dataclass
class BuildOutcome:
    published: bool
    warehouse: Path
    gate: GateReport
    figures: dict[str, int]
    reason: str | None = None
    rejected_path: Path | None = None


# --- check frames and the gate ----------------------------------------------------------------


ACCEPT_FLAG = "--accept-losses"


def _previous_unreadable(error: str, blocking: bool) -> ExpectationOutcome:
    """Without the previous figures nothing says what this build would lose: it blocks."""
    return ExpectationOutcome(
        "previous_warehouse_readable",
        None,
        False,
        0,
        0,
        blocking,
        suite=ROW_COUNT_SUITE,
        detail="previous_warehouse_readable()",
        why="reports and rows are compared with the previous warehouse before it is replaced",
        observed=f"cannot read it and there is no valid record of what it holds ({error}); "
        f"replace it anyway with {ACCEPT_FLAG}",
    )


def _held_for_writing(warehouse: Path) -> ExpectationOutcome:
    return ExpectationOutcome(
        "warehouse_not_in_use_for_writing",
        None,
        False,
        0,
        0,
        True,  # never accepted: replacing the file would silently drop that process's changes
        suite="warehouse_in_use",
        detail="warehouse_not_in_use_for_writing()",
        why="a process writing to the warehouse would lose its changes when the file is replaced",
        observed=f"another process has {warehouse.name} open for writing; close it and build again",
    )


def lost_reports(
    previous: pd.DataFrame, now: Iterable[tuple[str, str]], load_errors: Iterable[LoadError], present: Sequence
) -> list[tuple[str, str]]:
    """(report file, why) for each report of the previous warehouse the new one would no longer have."""
    now_keys, now_files = set(), set()
    for key, name in now:
        now_keys.add(key)
        now_files.add(name)
    present_keys = {sha for _, sha in present}
    present_names = {name for name, _ in present}
    reasons: dict[str, str] = {}
    for e in load_errors:
        if not e.reason.startswith("warning:"):
            reasons.setdefault(e.file, e.reason)
    lost = []
    for key, name in zip(previous["report_key"], previous["report_file"], strict=True):
        if key in now_keys or name in now_files:
            continue
        if not present:
            why = "the raw folder has no report files"
        elif name in reasons:
            why = reasons[name].split(" (")[0] if reasons[name].startswith(SUPERSEDED) else reasons[name]
        elif key not in present_keys and name not in present_names:
            why = "no longer in the raw folder"
        else:
            why = "not loaded"
        lost.append((name, why))
    return lost


def _lost_outcome(lost: list[tuple[str, str]], total: int, blocking: bool) -> ExpectationOutcome:
    shown = "; ".join(f"{name} ({why})" for name, why in lost[:LOST_SHOWN])
    more = f"; and {len(lost) - LOST_SHOWN} more" if len(lost) > LOST_SHOWN else ""
    return ExpectationOutcome(
        "published_reports_kept",
        None,
        not lost,
        len(lost),
        total,
        blocking,
        suite=ROW_COUNT_SUITE,
        detail="published_reports_kept()",
        why="a build must not drop a published report unless someone accepts it",
        sample=[{"report_file": name, "why": why} for name, why in lost[:LOST_SHOWN]],
        observed=None
        if not lost
        else f"{len(lost)} of {total} published reports would go: {shown}{more}; publish anyway with {ACCEPT_FLAG}",
    )


def present_frame(present: Iterable[tuple[str, str]]) -> pd.DataFrame:
    names, hashes = zip(*present, strict=True) if present else ((), ())
    return pd.DataFrame({"name": pd.Series(names, dtype="str"), "sha256": pd.Series(hashes, dtype="str")})


def check_frame_sql(suite: str) -> str:
    return (CHECKS_DIR / f"{suite}.sql").read_text(encoding="utf-8")


KEPT_SHARES_SQL = """
select report_key, suite, outcomes from validation_shares
where report_key in (select report_key from dim_report)
  and report_key not in (select report_key from checked_reports)
"""


def check_frames(
    candidate: Path, previous: pd.DataFrame, present: pd.DataFrame, checked: Sequence[str]
) -> tuple[dict[str, pd.DataFrame | pl.DataFrame | str], list[tuple[str, str, str]]]:
    """Each suite's frame read from the new warehouse (read-only), or the error that prevented it; and
    the shares of the reports not checked now. Frames of SHARED_SUITES hold the `checked` reports' rows."""
    frames: dict[str, pd.DataFrame | pl.DataFrame | str] = {}
    with duckdb.connect(str(candidate), read_only=True) as con:
        con.register("previous_counts", previous)
        con.register("present_files", present)
        con.register("checked_reports", pd.DataFrame({"report_key": pd.Series(list(checked), dtype="str")}))
        con.execute(check_frame_sql(PRELUDE))
        for suite in WAREHOUSE_SUITES:
            try:
                relation = con.sql(check_frame_sql(suite))
                frames[suite] = relation.pl() if suite in REPORT_SUITES else relation.df()
            except duckdb.Error as exc:
                frames[suite] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        kept = con.execute(KEPT_SHARES_SQL).fetchall()
    return frames, kept


def _shares_of(frame: pl.DataFrame, suite: str) -> dict[str, list[ExpectationOutcome]]:
    """Each report's share of every outcome of the suite over the frame's rows (column report_key)."""
    id_columns = load_suite_json(suite).get("meta", {}).get("id_columns", [])
    results = validate_reports(frame.with_columns(pl.col("report_key").alias(REPORT_ID)), suite, id_columns)
    return {key: v.outcomes for key, v in results.items()}


def _report_outcomes(
    frame: pl.DataFrame, suite: str, kept: Iterable[tuple[str, str, str]]
) -> tuple[list[ExpectationOutcome], dict[str, list[ExpectationOutcome]]]:
    """The suite's outcomes over every report's rows, from the shares of the reports checked now and
    those kept; and the shares of the reports checked now."""
    shares = _shares_of(frame, suite)
    every = dict(shares)
    for key, name, text in kept:
        if name == suite:
            every[key] = [ExpectationOutcome(**o) for o in json.loads(text)]
    totals: dict[tuple[str, str], ExpectationOutcome] = {}
    for key in sorted(every):  # the frames' order: samples are the first unexpected rows, as in one run
        for o in every[key]:
            merge_outcome(totals, o)
    if not totals:  # no report has a row here: the suite runs on the empty frame (row counts, columns)
        return run_suite(frame.to_pandas(), suite)[0], shares
    return list(totals.values()), shares


def _share_rows(suite: str, shares: dict[str, list[ExpectationOutcome]]) -> list[tuple[str, str, str]]:
    """The shares as validation_shares rows."""
    return [(key, suite, json.dumps([vars(o) for o in outcomes], default=str)) for key, outcomes in shares.items()]


def _unreadable(suite: str, error: str) -> ExpectationOutcome:
    """A frame that cannot be built fails closed: nothing about that table is known."""
    return ExpectationOutcome(
        "check_frame",
        None,
        False,
        0,
        0,
        True,
        suite=suite,
        detail=f"check_frame({suite})",
        why="the check frame query must run",
        observed=error,
    )


def run_gate(
    candidate: Path,
    previous_warehouse: Path,
    present: Sequence[tuple[str, str]],
    facts_outcomes: Iterable[ExpectationOutcome] = (),
    warn_only: Iterable[str] = (),
    load_errors: Iterable[LoadError] = (),
    loaded: Sequence[str] | None = None,
) -> GateReport:
    """Run every warehouse suite on the new file; `warn_only` suites count but do not block.

    `loaded` names the reports whose rows this build loaded into a copy of the published file (None:
    the file was loaded whole). The rows of the others were checked by the same suites, with the same
    code, when that file was built: their shares of each outcome (validation_shares) are added to the
    new reports', so a build with one new report reads that report's rows, not every report's, and
    records the totals a run over every row gives. Tables of all reports (reports, indicators) are whole.
    """
    demoted = set(warn_only)
    previous, unreadable = previous_counts(previous_warehouse)
    now = [(r["report_key"], r["report_file"]) for r in report_counts(candidate)]
    checked = [key for key, _ in now] if loaded is None else list(loaded)
    frames, kept = check_frames(candidate, previous, present_frame(present), checked)
    report = GateReport(checked=checked)
    if previous_warehouse.exists() and held_for_writing(previous_warehouse):
        report.outcomes.append(_held_for_writing(previous_warehouse))
    if unreadable:
        report.outcomes.append(_previous_unreadable(unreadable, ROW_COUNT_SUITE not in demoted))
    lost = lost_reports(previous, now, load_errors, present)
    report.outcomes.append(_lost_outcome(lost, len(previous), ROW_COUNT_SUITE not in demoted))
    report.outcomes += list(facts_outcomes)
    for suite in WAREHOUSE_SUITES:
        frame = frames[suite]
        if isinstance(frame, str):
            report.outcomes.append(_unreadable(suite, frame))
            continue
        if suite in REPORT_SUITES:  # dim_report's frame holds every report: no kept shares
            outcomes, shares = _report_outcomes(frame, suite, kept if suite in SHARED_SUITES else ())
            report.report_shares[suite] = shares
            if suite in SHARED_SUITES:
                report.shares += _share_rows(suite, shares)
        else:
            id_columns = load_suite_json(suite).get("meta", {}).get("id_columns", [])
            outcomes, _ = run_suite(frame, suite, id_columns)
        for o in outcomes:
            o.blocking = o.blocking and suite not in demoted
        report.outcomes += outcomes
    for o in report.blocking_failures:
        log.info("blocking check failed: %s", failure_text(o))
    for o in report.warnings:
        log.info("check warned: %s", failure_text(o))
    return report


# --- the tail of a build ----------------------------------------------------------------------


def build_and_publish(
    stage_dir: Path,
    warehouse: Path,
    load_errors: Iterable[LoadError],
    summary: Mapping[str, int],
    present: Sequence[tuple[str, str]],
    facts_outcomes: Iterable[ExpectationOutcome] = (),
    run_id: str = "",
    accept_row_drops: bool = False,
    state: Mapping[str, str] | None = None,
    reports_cache: Path | None = None,
    value_change_limit: float = VALUE_CHANGE_LIMIT,
) -> BuildOutcome:
    """Build, check and publish (or reject) a new warehouse; the previous one stays until the rename.
    A report failing on its own rows is held back, the version of it published before put back from
    `reports_cache` (the per-report results of earlier builds) when it is there."""
    with warehouse_lock(warehouse):
        remove_leftovers(warehouse)
        remove_stale_staging(stage_dir.parent, stage_dir)
        refuse_to_replace(warehouse)
        gate = GateRun(
            stage_dir, warehouse, present, list(facts_outcomes), accept_row_drops, reports_cache, value_change_limit
        )
        candidate, report = gate.checked_candidate(list(load_errors), summary)
        try:
            run_at = datetime.now(UTC).replace(tzinfo=None)
            loaded = loaded_figures(candidate)
            # flags the load adds (a unit taken from the indicator) count as the rows show them
            counted = loaded if report.held_back else {"rows_flagged": loaded["rows_flagged"]}
            gate_figures = {**report.figures(), **counted}
            figures = {**summary, **gate_figures}
            record_validation(
                candidate, report.rows(run_id, run_at), gate_figures, state, (report.checked, report.shares)
            )
            if report.blocking_failures:
                kept = keep_rejected(candidate, warehouse, run_at)
                log.info("new warehouse rejected, kept at %s; %s stays as it was", kept, warehouse)
                return BuildOutcome(False, warehouse, report, figures, report.reason(), kept)
            reports = report_counts(candidate)
            publish(candidate, warehouse)
            write_record(warehouse, reports)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
    return BuildOutcome(True, warehouse, report, figures)


@dataclass
class GateRun:
    """One build's candidate and gate, in rounds: a report that fails on its own rows is held back and
    the candidate built again without it, until none does (pipeline/warehouse/holdback.py)."""

    stage_dir: Path
    warehouse: Path
    present: Sequence[tuple[str, str]]
    facts_outcomes: list[ExpectationOutcome]
    accept_row_drops: bool
    reports_cache: Path | None
    value_change_limit: float = VALUE_CHANGE_LIMIT
    restaging: Restaging = field(default_factory=Restaging)

    def checked_candidate(self, load_errors: list[LoadError], summary: Mapping[str, int]) -> tuple[Path, GateReport]:
        """A new warehouse and its gate report; the held-back reports are named in its load_errors."""
        reuse = published_intact(self.warehouse)
        saved = Restaging.saved(self.stage_dir)
        if saved.verdicts:  # this step again after a transient failure: hold back the same reports
            self.restaging = Restaging(names=saved.names)
            self._hold_back(saved.verdicts)
        repeats = staged_repeats(self.stage_dir, reports_to_load(self.stage_dir, self.warehouse) if reuse else None)
        if repeats:  # their keys would break the load
            self._hold_back(repeats)
        changes, load_errors = self._value_changes(load_errors)
        for round_no in range(HOLD_BACK_ROUNDS):
            errors = load_errors + [LoadError(h.report_file, GATE_STAGE, h.reason) for h in self.restaging.held]
            built = build_candidate(self.stage_dir, self.warehouse, errors, summary, reuse=reuse)
            try:
                fault_point("gate")
                report = run_gate(
                    built.path,
                    self.warehouse,
                    self.present,
                    self.facts_outcomes,
                    warn_only=(ROW_COUNT_SUITE,) if self.accept_row_drops else (),
                    load_errors=errors,
                    loaded=built.loaded,
                )
                failing = {k: v for k, v in report.failing_reports().items() if k not in self.restaging.keys}
                if not failing or round_no == HOLD_BACK_ROUNDS - 1:
                    report.held_back = list(self.restaging.held)
                    report.values_changed = changes
                    report.outcomes += held_outcomes(self.restaging.held)
                    return built.path, report
                years = report_years(built.path, failing)
            except BaseException:
                built.path.unlink(missing_ok=True)
                raise
            built.path.unlink(missing_ok=True)
            self._hold_back({key: verdict(failures, years.get(key)) for key, failures in failing.items()})
        raise AssertionError("the last round returns")

    def _value_changes(self, load_errors: list[LoadError]) -> tuple[int, list[LoadError]]:
        """Published reports read again compared value by value: each that changed is named with
        examples (a warning), one over the limit held back; gives the values changed and the errors."""
        changes = [c for c in value_changes(self.stage_dir, self.warehouse) if c.changed]
        limit = self.value_change_limit
        over = {c.report_key: c.verdict(limit) for c in changes if c.share > limit}
        warned = [
            LoadError(c.report_file, GATE_STAGE, f"warning: {c.text()}") for c in changes if c.report_key not in over
        ]
        for c in changes:
            log.warning("%s: %s", c.report_file, c.text())
        if over:
            self._hold_back(over)
        return sum(c.changed for c in changes), load_errors + warned

    def _hold_back(self, verdicts) -> None:
        hold_back(self.stage_dir, verdicts, self.warehouse, self.reports_cache, self.restaging)
