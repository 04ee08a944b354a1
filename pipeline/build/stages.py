"""Parse, normalize and validate every report of one build: plain functions over a staging folder.

The stages themselves (pipeline/parse, pipeline/model, pipeline/warehouse/validate.py) work on one
report; these run them over all the reports of a build. Each takes the previous step's result and
gives its own: small records with paths to per-file outputs, never every report's content at once.
The Dagster assets (pipeline/orchestration/assets.py) call these, and nothing here knows Dagster; so
do tests. Staging layout under <stage>/: facts/<sha>.parquet, goals/<sha>.parquet,
valid/<sha>.parquet, quarantine/<sha>.parquet, reports.parquet.

Each report's results are cached (pipeline/build/incremental.py) under <cache>/reports/<key>.*: parsed.json
or rejected.txt, facts.parquet and goals.parquet, valid.parquet, quarantine.parquet and
outcomes.json, each sealed with the warehouse folder's key. A report whose entries are cached and pass
their check is read back, not parsed, normalized or validated again, and the staging folder gets the
checked content; an entry that fails its check is derived again (one line says so).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.build.incremental import ReportCache, prune_reports_cache, report_key
from pipeline.common.models import (
    LoadError,
    ParsedReport,
    ReportMeta,
    SourceFile,
    report_from_plain,
    report_to_plain,
)
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
    path: Path  # its cached ParsedReport (sealed JSON)
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
    names: list[str] = field(default_factory=list)  # the file name of each report in `facts`
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


# The kinds of entry a report has in the per-report cache.
PARSED, REJECTED = "parsed.json", "rejected.txt"
FACTS, GOALS = "facts.parquet", "goals.parquet"
VALID, QUARANTINE, OUTCOMES = "valid.parquet", "quarantine.parquet", "outcomes.json"
ENTRY_KINDS = (PARSED, REJECTED, FACTS, GOALS, VALID, QUARANTINE, OUTCOMES)


class CacheChanged(RuntimeError):
    """An entry checked earlier in this build no longer passes: something changed it meanwhile."""


def _cached_text(cache: ReportCache, key: str, kind: str, name: str) -> str | None:
    data = cache.read(key, kind, name)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:  # sealed by this code: should never happen
        cache.discard(key, kind, name, str(exc))
        return None


def _cached_report(cache: ReportCache, key: str, name: str) -> ParsedReport | None:
    text = _cached_text(cache, key, PARSED, name)
    if text is None:
        return None
    try:
        return report_from_plain(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:  # sealed by this code: should never happen
        cache.discard(key, PARSED, name, f"{type(exc).__name__}: {exc}")
        return None


def parse_all(
    discovery: Discovery,
    extracted: list[Extracted],
    stage_dir: Path,
    cache_dir: Path,
    progress: Callable[[str], None] = log.info,
    keep: Collection[str] = (),
) -> ParseStep:
    """Parse every report, or take it from the cache; `keep`: cache keys of the published reports, kept
    when the code changed so a report held back can have its published version put back."""
    step = ParseStep()
    claim_stage_dir(stage_dir)
    cache = ReportCache(cache_dir)
    prune_reports_cache(cache_dir, keep)
    keys = [report_key(item.file, discovery.manifest.get(item.file.name)) for item in extracted]
    cache.prefetch(keys, ENTRY_KINDS)  # from the shared store, if any: in batches, not one by one
    for item in extracted:
        name = item.file.name
        key = report_key(item.file, discovery.manifest.get(name))
        rejected = _cached_text(cache, key, REJECTED, name)
        if rejected is not None:
            step.from_cache += 1
            step.errors.append(LoadError(name, "parse", rejected))
            continue
        report = _cached_report(cache, key, name)
        if report is not None:
            step.from_cache += 1
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
                cache.write(key, REJECTED, reason.encode("utf-8"))
                step.errors.append(LoadError(name, "parse", reason))
                progress(f"rejected {name}: {reason}")
                continue
            district = district_by_name(report.meta.district or "")
            assert district is not None
            report.meta.district = district.name
            cache.write(key, PARSED, json.dumps(report_to_plain(report)).encode("utf-8"))
        step.errors += [LoadError(name, "parse", f"warning: {w}") for w in report.warnings]
        district = district_by_name(report.meta.district or "")
        assert district is not None
        flagged = sum(1 for r in report.rows if r.quality_flag)
        step.files.append(
            ParsedFile(item.file, report.meta, district.code, cache.path(key, PARSED), len(report.rows), flagged, key)
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
    cache = ReportCache(cache_dir)
    for sub in ("facts", "goals"):
        (stage_dir / sub).mkdir(parents=True, exist_ok=True)
    for p in parsed.files:
        name = p.file.name
        facts, goals = cache.read(p.key, FACTS, name), cache.read(p.key, GOALS, name)
        if facts is not None and goals is not None:
            step.from_cache += 1
        else:
            report = _cached_report(cache, p.key, name)
            if report is None:  # parse_all read it moments ago
                raise CacheChanged(f"the cached parse of {name} changed during the build; build again")
            facts, goals = _parquet_bytes(normalize_report(report)), _parquet_bytes(goals_frame(report))
            cache.write(p.key, FACTS, facts)
            cache.write(p.key, GOALS, goals)
        # the staging folder gets the content just checked, never a link to a cache file that could change
        facts_path = stage_dir / "facts" / f"{p.file.sha256}.parquet"
        facts_path.write_bytes(facts)
        (stage_dir / "goals" / f"{p.file.sha256}.parquet").write_bytes(goals)
        step.facts.append(facts_path)
        step.keys.append(p.key)
        step.names.append(name)
    _reports_frame(parsed).write_parquet(stage_dir / "reports.parquet")
    _write_empty_schemas(stage_dir)
    return step


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _write_empty_schemas(stage_dir: Path) -> None:
    """An empty file per folder so the loader's globs match even when no report loaded."""
    empty = ParsedReport(SourceFile("", "", "", 0, "txt"), ReportMeta(), [], [])
    normalize_report(empty).write_parquet(stage_dir / "facts" / "_empty.parquet")
    goals_frame(empty).write_parquet(stage_dir / "goals" / "_empty.parquet")


# --- validate --------------------------------------------------------------------------------


def _validated(result: Validation) -> bytes:
    """What a build needs of a report's validation besides its rows: kept beside them in the cache, so
    a build does not open every report's files to count them."""
    done = {
        "outcomes": [vars(o) for o in result.outcomes],
        "rows": result.valid.height,
        "flagged": result.valid["quality_flag"].is_not_null().sum(),
        "quarantined": result.quarantined.height,
    }
    return json.dumps(done, default=str).encode("utf-8")


def _cached_validation(cache: ReportCache, key: str, name: str, stage: Path, file_name: str) -> dict | None:
    """A report's cached validation, its rows put into the staging folder; None when an entry is
    missing or fails its check."""
    entries = [cache.read(key, kind, name) for kind in (VALID, QUARANTINE, OUTCOMES)]
    if any(e is None for e in entries):
        return None
    valid, quarantined, outcomes = entries
    try:
        done = json.loads(outcomes)
        done["outcomes"] = [ExpectationOutcome(**o) for o in done["outcomes"]]
    except (ValueError, TypeError, KeyError) as exc:  # sealed by this code: should never happen
        cache.discard(key, OUTCOMES, name, f"{type(exc).__name__}: {exc}")
        return None
    (stage / "valid" / file_name).write_bytes(valid)
    (stage / "quarantine" / file_name).write_bytes(quarantined)
    return done


def validate_all(normalized: NormalizeStep, cache_dir: Path) -> ValidateStep:
    """Row-level validation of every report, reusing each unchanged report's result from the cache."""
    stage = normalized.stage_dir
    step = ValidateStep(stage)
    cache = ReportCache(cache_dir)
    (stage / "valid").mkdir(exist_ok=True)
    (stage / "quarantine").mkdir(exist_ok=True)
    reports = list(zip(normalized.keys, normalized.names, normalized.facts, strict=True))
    done: dict[str, dict] = {}
    todo = []
    for key, name, path in reports:
        cached = _cached_validation(cache, key, name, stage, path.name)
        if cached is None:
            todo.append((key, path))
        else:
            done[key] = cached
    step.from_cache = len(done)
    key_of = {path.stem: key for key, path in todo}  # report_id (content hash) -> cache key
    # Several reports per suite run: GX costs about half a second a run whatever the size.
    for batch in in_batches((pl.read_parquet(path, glob=False) for _, path in todo), VALIDATE_BATCH_ROWS):
        for report_id, result in validate_reports(batch).items():
            key = key_of[report_id]
            valid, quarantined = _parquet_bytes(result.valid), _parquet_bytes(result.quarantined)
            outcomes = _validated(result)
            cache.write(key, VALID, valid)
            cache.write(key, QUARANTINE, quarantined)
            cache.write(key, OUTCOMES, outcomes)
            (stage / "valid" / f"{report_id}.parquet").write_bytes(valid)
            (stage / "quarantine" / f"{report_id}.parquet").write_bytes(quarantined)
            # read back as a later build reads it, so a build from the cache adds up the same figures
            done[key] = json.loads(outcomes)
            done[key]["outcomes"] = [ExpectationOutcome(**o) for o in done[key]["outcomes"]]
    totals: dict[tuple[str, str], ExpectationOutcome] = {}
    for key, _, _ in reports:  # in the reports' order: samples are the first unexpected rows
        step.rows_valid += done[key]["rows"]
        step.rows_flagged += done[key]["flagged"]
        step.rows_quarantined += done[key]["quarantined"]
        for o in done[key]["outcomes"]:
            merge_outcome(totals, o)
    # Empty files with the schema, so the loader's globs match even when no report loaded.
    empty = pl.read_parquet(stage / "facts" / "_empty.parquet", glob=False)
    empty.write_parquet(stage / "valid" / "_empty.parquet")
    empty.with_columns(pl.lit(None, pl.String).alias("reason")).write_parquet(stage / "quarantine" / "_empty.parquet")
    step.outcomes = list(totals.values())
    return step
