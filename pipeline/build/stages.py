"""Parse, normalize and validate every report of one build: plain functions over a staging folder.

The stages themselves (pipeline/parse, pipeline/model, pipeline/warehouse/validate.py) work on one
report; these run them over all the reports of a build. Each takes the previous step's result and
gives its own: small records with paths to per-file outputs, never every report's content at once.
The Dagster assets (pipeline/orchestration/assets.py) call these, and nothing here knows Dagster; so
do tests. Staging layout under <stage>/: facts/<sha>.parquet, goals/<sha>.parquet,
valid/<sha>.parquet, quarantine/<sha>.parquet, reports.parquet.

Each report's results are cached (pipeline/build/incremental.py) under <cache>/reports/<key>.*: parsed.pkl
or rejected.txt, facts.parquet and goals.parquet, valid.parquet, quarantine.parquet and
outcomes.pkl. A report whose key is cached is read back, not parsed, normalized or validated again;
the staging folder gets hard links to the cached files.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.build.incremental import link_or_copy, prune_reports_cache, report_key, reports_cache, write_atomic
from pipeline.common.models import LoadError, ParsedReport, ReportMeta, SourceFile
from pipeline.common.reference import district_by_name
from pipeline.common.staging import claim_stage_dir
from pipeline.model.normalize import goals_frame, normalize_report
from pipeline.model.periods import report_period_dates, report_period_key, report_period_label
from pipeline.parse.tables import parse_report
from pipeline.sources.discover import Discovery
from pipeline.sources.extract_cache import DamagedCacheEntry, Extracted, load_extracted
from pipeline.warehouse.validate import (
    VALIDATE_BATCH_ROWS,
    ExpectationOutcome,
    Validation,
    in_batches,
    keep_one_report_per_scope,
    merge_outcome,
    validate_reports,
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
    key: str = ""  # its cache key (pipeline/build/incremental.py)


@dataclass
class ParseStep:
    files: list[ParsedFile] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    from_cache: int = 0
    up_to_date: bool = False  # nothing to do: the warehouse in place was built from the same inputs


@dataclass
class NormalizeStep:
    stage_dir: Path
    facts: list[Path] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the cache key of each report in `facts`
    from_cache: int = 0
    up_to_date: bool = False


@dataclass
class ValidateStep:
    stage_dir: Path
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    from_cache: int = 0
    up_to_date: bool = False


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
    discovery: Discovery,
    extracted: list[Extracted],
    stage_dir: Path,
    cache_dir: Path,
    progress: Callable[[str], None] = log.info,
) -> ParseStep:
    step = ParseStep()
    claim_stage_dir(stage_dir)
    cache = reports_cache(cache_dir)
    prune_reports_cache(cache_dir)
    for item in extracted:
        name = item.file.name
        key = report_key(item.file, discovery.manifest.get(name))
        parsed_path, rejected_path = cache / f"{key}.parsed.pkl", cache / f"{key}.rejected.txt"
        if rejected_path.exists():
            step.from_cache += 1
            step.errors.append(LoadError(name, "parse", rejected_path.read_text(encoding="utf-8")))
            continue
        if parsed_path.exists():
            step.from_cache += 1
            report: ParsedReport = pickle.loads(parsed_path.read_bytes())
        else:
            try:
                text = load_extracted(item)
            except DamagedCacheEntry:  # verified moments ago: something changed it during this build
                step.errors.append(
                    LoadError(name, "extract", "cached extraction changed during the build; build again")
                )
                continue
            try:
                report = parse_report(text, discovery.manifest.get(name))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
                log.exception("parse failed for %s", name)
                step.errors.append(LoadError(name, "parse", f"parser failed: {type(exc).__name__}: {exc}"))
                continue
            reason = _reject_reason(report)
            if reason:
                write_atomic(rejected_path, reason.encode("utf-8"))
                step.errors.append(LoadError(name, "parse", reason))
                progress(f"rejected {name}: {reason}")
                continue
            district = district_by_name(report.meta.district or "")
            assert district is not None
            report.meta.district = district.name
            write_atomic(parsed_path, pickle.dumps(report))
        step.errors += [LoadError(name, "parse", f"warning: {w}") for w in report.warnings]
        district = district_by_name(report.meta.district or "")
        assert district is not None
        flagged = sum(1 for r in report.rows if r.quality_flag)
        step.files.append(
            ParsedFile(item.file, report.meta, district.code, parsed_path, len(report.rows), flagged, key)
        )
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
        "cache_key": p.key,  # which cached result the rows come from: a later build compares it
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
            "cache_key": pl.String,
        },
    )


def normalize_all(parsed: ParseStep, stage_dir: Path, cache_dir: Path) -> NormalizeStep:
    step = NormalizeStep(stage_dir)
    cache = reports_cache(cache_dir)
    for sub in ("facts", "goals"):
        (stage_dir / sub).mkdir(parents=True, exist_ok=True)
    for p in parsed.files:
        cached_facts, cached_goals = cache / f"{p.key}.facts.parquet", cache / f"{p.key}.goals.parquet"
        if cached_facts.exists() and cached_goals.exists():
            step.from_cache += 1
        else:
            report: ParsedReport = pickle.loads(p.path.read_bytes())
            _write_parquet(normalize_report(report), cached_facts)
            _write_parquet(goals_frame(report), cached_goals)
        facts_path = stage_dir / "facts" / f"{p.file.sha256}.parquet"
        link_or_copy(cached_facts, facts_path)
        link_or_copy(cached_goals, stage_dir / "goals" / f"{p.file.sha256}.parquet")
        step.facts.append(facts_path)
        step.keys.append(p.key)
    _reports_frame(parsed).write_parquet(stage_dir / "reports.parquet")
    _write_empty_schemas(stage_dir)
    return step


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Written under a temporary name and renamed: a killed build never leaves half a cached file."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def _write_empty_schemas(stage_dir: Path) -> None:
    """An empty file per folder so the loader's globs match even when no report loaded."""
    empty = ParsedReport(SourceFile("", "", "", 0, "txt"), ReportMeta(), [], [])
    normalize_report(empty).write_parquet(stage_dir / "facts" / "_empty.parquet")
    goals_frame(empty).write_parquet(stage_dir / "goals" / "_empty.parquet")


# --- validate --------------------------------------------------------------------------------


def _validated(result: Validation) -> dict:
    """What a build needs of a report's validation besides its rows: kept beside them in the cache, so
    a build does not open every report's files to count them."""
    return {
        "outcomes": result.outcomes,
        "rows": result.valid.height,
        "flagged": result.valid["quality_flag"].is_not_null().sum(),
        "quarantined": result.quarantined.height,
    }


def validate_all(normalized: NormalizeStep, cache_dir: Path) -> ValidateStep:
    """Row-level validation of every report, reusing each unchanged report's result from the cache."""
    stage = normalized.stage_dir
    step = ValidateStep(stage)
    cache = reports_cache(cache_dir)
    (stage / "valid").mkdir(exist_ok=True)
    (stage / "quarantine").mkdir(exist_ok=True)

    def cached(key: str, what: str) -> Path:
        return cache / f"{key}.{what}"

    todo = [
        (key, path)
        for key, path in zip(normalized.keys, normalized.facts, strict=True)
        if not cached(key, "outcomes.pkl").exists()
    ]
    step.from_cache = len(normalized.facts) - len(todo)
    key_of = {path.stem: key for key, path in todo}  # report_id (content hash) -> cache key
    # Several reports per suite run: GX costs about half a second a run whatever the size.
    for batch in in_batches((pl.read_parquet(path, glob=False) for _, path in todo), VALIDATE_BATCH_ROWS):
        for report_id, result in validate_reports(batch).items():
            key = key_of[report_id]
            _write_parquet(result.valid, cached(key, "valid.parquet"))
            _write_parquet(result.quarantined, cached(key, "quarantine.parquet"))
            write_atomic(cached(key, "outcomes.pkl"), pickle.dumps(_validated(result)))
    totals: dict[tuple[str, str], ExpectationOutcome] = {}
    for key, path in zip(normalized.keys, normalized.facts, strict=True):
        link_or_copy(cached(key, "valid.parquet"), stage / "valid" / path.name)
        link_or_copy(cached(key, "quarantine.parquet"), stage / "quarantine" / path.name)
        done = pickle.loads(cached(key, "outcomes.pkl").read_bytes())
        step.rows_valid += done["rows"]
        step.rows_flagged += done["flagged"]
        step.rows_quarantined += done["quarantined"]
        for o in done["outcomes"]:
            merge_outcome(totals, o)
    # Empty files with the schema, so the loader's globs match even when no report loaded.
    empty = pl.read_parquet(stage / "facts" / "_empty.parquet", glob=False)
    empty.write_parquet(stage / "valid" / "_empty.parquet")
    empty.with_columns(pl.lit(None, pl.String).alias("reason")).write_parquet(stage / "quarantine" / "_empty.parquet")
    step.outcomes = list(totals.values())
    return step
