"""The quality gate between building a new warehouse and swapping it in, and the build's crash safety.

Takes the staging folder of a build, the warehouse path, the load errors and summary, the files found
in the raw folder and the outcomes of the row-level facts suite. `build_and_publish` then, holding
the build lock:
  1. removes what killed builds left behind (half-built files, old staging folders),
  2. builds a complete new warehouse file beside the current one (load.build_candidate),
  3. reads each table of it, read-only, into a check frame (sql/checks/<suite>.sql) and runs the
     Great Expectations suite of the same name (expectations/<suite>.json) on it; report_row_counts
     compares rows per report with the previous warehouse,
  4. records every outcome in the new file's validation_results table,
  5. publishes it with one atomic rename, or, when a blocking expectation failed, moves it to
     warehouse/rejected/ for inspection and leaves the previous warehouse in place.
It gives a BuildOutcome: published or not, the one-line reason, the gate's outcomes and figures.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.faults import fault_point
from pipeline.load import SQL_DIR, build_candidate, leftover_building_files, publish, record_validation
from pipeline.models import LoadError
from pipeline.validate import ExpectationOutcome, load_suite_json, run_suite

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
CHECKS_DIR = SQL_DIR / "checks"
PRELUDE = "_prelude"  # temporary views the frames share
REJECTED_DIR_NAME = "rejected"
# Rejected warehouses are kept for inspection; a nightly that keeps failing must not fill the disk.
KEEP_REJECTED = 5
# A second build waits this long for the first to finish before it gives up (and Dagster retries).
LOCK_TIMEOUT_S = 15 * 60.0
LOCK_POLL_S = 0.5
# Staging folders older than this belong to runs that died; younger ones may be a retry's input.
STALE_STAGING_S = 24 * 3600.0
# How many failing expectations the one-line reason names.
REASON_FAILURES = 3
# The load step retries a transient failure this often, waiting this long (BuildSettings.retry_wait_s).
TRANSIENT_RETRIES = 3
DEFAULT_RETRY_WAIT_S = 30.0
# I/O errors that may pass: a full or flaky disk, a network filesystem that went away for a moment.
TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE}


class WarehouseBusy(RuntimeError):
    """Another build holds the lock: transient, the run retries."""


def is_transient(exc: BaseException) -> bool:
    """Whether the same build may well succeed a little later (then it is retried, not failed)."""
    if isinstance(exc, (WarehouseBusy, duckdb.IOException, TimeoutError)):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


@dataclass
class GateReport:
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

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
        }

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


# --- the lock and what killed builds leave -----------------------------------------------------


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


@contextmanager
def warehouse_lock(warehouse: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """One build at a time per warehouse. The kernel drops the lock when its holder dies, even by kill -9."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(warehouse), "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"another build of {warehouse} is still running after {timeout_s:.0f} s"
                    ) from None
                time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove_leftovers(warehouse: Path) -> list[Path]:
    """Half-built files of killed builds. Call with the lock held: then no live build owns one."""
    removed = leftover_building_files(warehouse)
    for path in removed:
        path.unlink(missing_ok=True)
        log.warning("removed %s, left by a build that was stopped", path.name)
    return removed


def remove_stale_staging(staging_root: Path, current: Path, max_age_s: float = STALE_STAGING_S) -> None:
    if not staging_root.is_dir():
        return
    cutoff = time.time() - max_age_s
    for folder in staging_root.iterdir():
        if folder != current and folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def keep_rejected(candidate: Path, warehouse: Path, now: datetime, keep: int = KEEP_REJECTED) -> Path:
    """Move a rejected warehouse to rejected/<name>-<UTC time>.duckdb; the newest `keep` stay."""
    folder = warehouse.parent / REJECTED_DIR_NAME
    folder.mkdir(exist_ok=True)
    target = folder / f"{warehouse.stem}-{now.strftime('%Y%m%dT%H%M%S%fZ')}{warehouse.suffix}"
    candidate.replace(target)
    for old in sorted(folder.glob(f"{warehouse.stem}-*{warehouse.suffix}"))[:-keep]:
        old.unlink(missing_ok=True)
    return target


# --- check frames and the gate ----------------------------------------------------------------


def previous_counts(warehouse: Path) -> tuple[pd.DataFrame, str | None]:
    """Facts per report in the current warehouse (empty when there is none), and why it could not be read."""
    empty = pd.DataFrame(
        {
            "report_key": pd.Series(dtype="str"),
            "report_file": pd.Series(dtype="str"),
            "rows_before": pd.Series(dtype="int64"),
        }
    )
    if not warehouse.exists():
        return empty, None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.sql(
                "select r.report_key, r.report_file, count(f.row_no) as rows_before "
                "from dim_report r left join fact_indicator_value f using (report_key) "
                "group by all order by r.report_file"
            ).df(), None
    except duckdb.Error as exc:  # a broken previous warehouse must not stop its own replacement
        log.warning("cannot read the previous warehouse %s (%s); row counts not compared", warehouse, exc)
        return empty, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def _previous_unreadable(error: str) -> ExpectationOutcome:
    """Said out loud: without the previous warehouse the row counts were not compared."""
    return ExpectationOutcome(
        "previous_warehouse_readable",
        None,
        False,
        0,
        0,
        False,
        suite=ROW_COUNT_SUITE,
        detail="previous_warehouse_readable()",
        why="row counts per report are compared with the previous warehouse",
        observed=error,
    )


def present_frame(present: Iterable[tuple[str, str]]) -> pd.DataFrame:
    names, hashes = zip(*present, strict=True) if present else ((), ())
    return pd.DataFrame({"name": pd.Series(names, dtype="str"), "sha256": pd.Series(hashes, dtype="str")})


def check_frame_sql(suite: str) -> str:
    return (CHECKS_DIR / f"{suite}.sql").read_text(encoding="utf-8")


def check_frames(candidate: Path, previous: pd.DataFrame, present: pd.DataFrame) -> dict[str, pd.DataFrame | str]:
    """Each suite's frame read from the new warehouse (read-only), or the error that prevented it."""
    frames: dict[str, pd.DataFrame | str] = {}
    with duckdb.connect(str(candidate), read_only=True) as con:
        con.register("previous_counts", previous)
        con.register("present_files", present)
        con.execute(check_frame_sql(PRELUDE))
        for suite in WAREHOUSE_SUITES:
            try:
                frames[suite] = con.sql(check_frame_sql(suite)).df()
            except duckdb.Error as exc:
                frames[suite] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return frames


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
) -> GateReport:
    """Run every warehouse suite on the new file; `warn_only` suites count but do not block."""
    demoted = set(warn_only)
    previous, unreadable = previous_counts(previous_warehouse)
    frames = check_frames(candidate, previous, present_frame(present))
    report = GateReport(list(facts_outcomes))
    if unreadable:
        report.outcomes.append(_previous_unreadable(unreadable))
    for suite in WAREHOUSE_SUITES:
        frame = frames[suite]
        if isinstance(frame, str):
            report.outcomes.append(_unreadable(suite, frame))
            continue
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
) -> BuildOutcome:
    """Build, check and publish (or reject) a new warehouse; the previous one stays until the rename."""
    with warehouse_lock(warehouse):
        remove_leftovers(warehouse)
        remove_stale_staging(stage_dir.parent, stage_dir)
        candidate = build_candidate(stage_dir, warehouse, list(load_errors), summary)
        try:
            fault_point("gate")
            report = run_gate(
                candidate, warehouse, present, facts_outcomes, warn_only=(ROW_COUNT_SUITE,) if accept_row_drops else ()
            )
            run_at = datetime.now(UTC).replace(tzinfo=None)
            figures = {**summary, **report.figures()}
            record_validation(candidate, report.rows(run_id, run_at), report.figures(), state)
            if report.blocking_failures:
                kept = keep_rejected(candidate, warehouse, run_at)
                log.info("new warehouse rejected, kept at %s; %s stays as it was", kept, warehouse)
                return BuildOutcome(False, warehouse, report, figures, report.reason(), kept)
            publish(candidate, warehouse)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
    return BuildOutcome(True, warehouse, report, figures)
