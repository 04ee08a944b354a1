"""The per-build work of each stage over many files, as plain functions over a staging folder.

Each function takes the previous step's result and gives its own: small records with paths to
per-file outputs, never every report's content at once. Dagster assets (assets.py) call these; so
do tests. Staging layout under <stage>/: parsed/<sha>.pkl, facts/<sha>.parquet,
goals/<sha>.parquet, valid/<sha>.parquet, quarantine/<sha>.parquet, reports.parquet.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.discover import Discovery
from pipeline.extract import DamagedCacheEntry, Extracted, load_extracted
from pipeline.models import LoadError, ParsedReport, ReportMeta, SourceFile
from pipeline.normalize import goals_frame, normalize_report
from pipeline.parse import parse_report
from pipeline.periods import report_period_dates, report_period_key, report_period_label
from pipeline.reference import district_by_name
from pipeline.validate import (
    VALIDATE_BATCH_ROWS,
    ExpectationOutcome,
    in_batches,
    keep_one_report_per_scope,
    merge_outcome,
    validate_frame,
)

log = logging.getLogger(__name__)


@dataclass
class ParsedFile:
    file: SourceFile
    meta: ReportMeta
    district_code: str
    path: Path  # pickled ParsedReport
    rows: int
    flagged: int


@dataclass
class ParseStep:
    files: list[ParsedFile] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


@dataclass
class NormalizeStep:
    stage_dir: Path
    facts: list[Path] = field(default_factory=list)


@dataclass
class ValidateStep:
    stage_dir: Path
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    outcomes: list[ExpectationOutcome] = field(default_factory=list)


# --- the staging folder of a run ----------------------------------------------------------------

STAGE_LOCK = ".owner.lock"
_claimed: dict[Path, int] = {}  # staging folders this process works in, with their locked descriptors


def claim_stage_dir(stage_dir: Path) -> Path:
    """Create a run's staging folder and hold a lock in it for as long as this process lives, so another
    build can tell a folder still in use from one a killed build left (the kernel drops the lock)."""
    stage_dir = stage_dir.resolve()
    stage_dir.mkdir(parents=True, exist_ok=True)
    if stage_dir not in _claimed:
        fd = os.open(stage_dir / STAGE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _claimed[stage_dir] = fd
    return stage_dir


def release_stage_dir(stage_dir: Path) -> None:
    """Remove a run's staging folder and let go of its lock."""
    stage_dir = stage_dir.resolve()
    shutil.rmtree(stage_dir, ignore_errors=True)
    fd = _claimed.pop(stage_dir, None)
    if fd is not None:
        os.close(fd)


def stage_dir_in_use(folder: Path) -> bool | None:
    """Whether a live build holds the folder's lock; None when the folder has no lock (older builds)."""
    try:
        fd = os.open(folder / STAGE_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# --- parse -----------------------------------------------------------------------------------


def _reject_reason(report: ParsedReport) -> str | None:
    missing = report.meta.missing()
    if missing:
        return (
            f"cannot tell {', '.join(missing)} from the text (no cover?); "
            "add the file to manifest.csv in the raw folder"
        )
    if report.meta.district and district_by_name(report.meta.district) is None:
        return f"unknown district '{report.meta.district}'"
    if not report.rows:
        return "no indicator rows found (not a district council report, or every table empty)"
    return None


def parse_all(
    discovery: Discovery, extracted: list[Extracted], stage_dir: Path, progress: Callable[[str], None] = log.info
) -> ParseStep:
    step = ParseStep()
    out = claim_stage_dir(stage_dir) / "parsed"
    out.mkdir(parents=True, exist_ok=True)
    for item in extracted:
        name = item.file.name
        try:
            text = load_extracted(item)
        except DamagedCacheEntry:  # verified moments ago: something changed it during this build
            step.errors.append(LoadError(name, "extract", "cached extraction changed during the build; build again"))
            continue
        try:
            report = parse_report(text, discovery.manifest.get(name))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            log.exception("parse failed for %s", name)
            step.errors.append(LoadError(name, "parse", f"parser failed: {type(exc).__name__}: {exc}"))
            continue
        reason = _reject_reason(report)
        if reason:
            step.errors.append(LoadError(name, "parse", reason))
            progress(f"rejected {name}: {reason}")
            continue
        step.errors += [LoadError(name, "parse", f"warning: {w}") for w in report.warnings]
        district = district_by_name(report.meta.district or "")
        assert district is not None
        report.meta.district = district.name
        path = out / f"{item.file.sha256}.pkl"
        path.write_bytes(pickle.dumps(report))
        flagged = sum(1 for r in report.rows if r.quality_flag)
        step.files.append(ParsedFile(item.file, report.meta, district.code, path, len(report.rows), flagged))
    step.files, superseded = keep_one_report_per_scope(step.files)  # one report per council and period
    step.errors += superseded
    return step


# --- normalize -------------------------------------------------------------------------------


def _report_record(p: ParsedFile) -> dict:
    rtype, year = p.meta.report_type, p.meta.year
    assert rtype is not None and year is not None  # rejected in parse_all otherwise
    start, end = report_period_dates(rtype, year)
    return {
        "report_key": p.file.sha256,
        "report_file": p.file.name,
        "source_kind": p.file.kind,
        "report_type": rtype,
        "year": year,
        "tertial": p.meta.tertial,
        "district_code": p.district_code,
        "org_unit": p.meta.org_unit,
        "metadata_source": ",".join(sorted(set(p.meta.evidence.values()))) or None,
        "period_key": report_period_key(rtype, year),
        "period_label": report_period_label(rtype, year),
        "period_start": start,
        "period_end": end,
    }


def _reports_frame(parsed: ParseStep) -> pl.DataFrame:
    return pl.DataFrame(
        [_report_record(p) for p in parsed.files],
        schema={
            "report_key": pl.String,
            "report_file": pl.String,
            "source_kind": pl.String,
            "report_type": pl.String,
            "year": pl.Int32,
            "tertial": pl.Int32,
            "district_code": pl.String,
            "org_unit": pl.String,
            "metadata_source": pl.String,
            "period_key": pl.String,
            "period_label": pl.String,
            "period_start": pl.Date,
            "period_end": pl.Date,
        },
    )


def normalize_all(parsed: ParseStep, stage_dir: Path) -> NormalizeStep:
    step = NormalizeStep(stage_dir)
    for sub in ("facts", "goals"):
        (stage_dir / sub).mkdir(parents=True, exist_ok=True)
    for p in parsed.files:
        report: ParsedReport = pickle.loads(p.path.read_bytes())
        facts_path = stage_dir / "facts" / f"{p.file.sha256}.parquet"
        normalize_report(report).write_parquet(facts_path)
        goals_frame(report).write_parquet(stage_dir / "goals" / f"{p.file.sha256}.parquet")
        step.facts.append(facts_path)
    _reports_frame(parsed).write_parquet(stage_dir / "reports.parquet")
    _write_empty_schemas(stage_dir)
    return step


def _write_empty_schemas(stage_dir: Path) -> None:
    """An empty file per folder so the loader's globs match even when no report loaded."""
    empty = ParsedReport(SourceFile("", "", "", 0, "txt"), ReportMeta(), [], [])
    normalize_report(empty).write_parquet(stage_dir / "facts" / "_empty.parquet")
    goals_frame(empty).write_parquet(stage_dir / "goals" / "_empty.parquet")


# --- validate --------------------------------------------------------------------------------


def validate_all(normalized: NormalizeStep) -> ValidateStep:
    stage = normalized.stage_dir
    step = ValidateStep(stage)
    (stage / "valid").mkdir(exist_ok=True)
    (stage / "quarantine").mkdir(exist_ok=True)
    totals: dict[tuple[str, str], ExpectationOutcome] = {}
    # Several reports per suite run: GX costs about half a second a run whatever the size.
    reports = (pl.read_parquet(path, glob=False) for path in normalized.facts)  # a path may hold "["
    for batch_no, batch in enumerate(in_batches(reports, VALIDATE_BATCH_ROWS)):
        result = validate_frame(batch)
        result.valid.write_parquet(stage / "valid" / f"batch-{batch_no:05d}.parquet")
        result.quarantined.write_parquet(stage / "quarantine" / f"batch-{batch_no:05d}.parquet")
        step.rows_valid += result.valid.height
        step.rows_quarantined += result.quarantined.height
        step.rows_flagged += result.valid.filter(pl.col("quality_flag").is_not_null()).height
        for o in result.outcomes:
            merge_outcome(totals, o)
    # Empty files with the schema, so the loader's globs match even when no report loaded.
    empty = pl.read_parquet(stage / "facts" / "_empty.parquet", glob=False)
    empty.write_parquet(stage / "valid" / "_empty.parquet")
    empty.with_columns(pl.lit(None, pl.String).alias("reason")).write_parquet(stage / "quarantine" / "_empty.parquet")
    step.outcomes = list(totals.values())
    return step
