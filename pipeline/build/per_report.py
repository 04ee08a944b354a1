"""One report's work, on its own: extract, parse, normalize and validate it into the caches a build reads.

What a Dagster partition of one report runs (pipeline/orchestration/partitions.py), possibly on another
machine than the build: the same stage functions a build runs over every report (pipeline/build/stages.py),
given one report, so its entries are those a build would make and the build that loads the warehouse
finds them (in the local cache folder, or the store attached to it) instead of doing the work again.
Nothing is returned but figures: the results are in the cache, sealed like every other entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.build.stages import normalize_all, parse_all, validate_all
from pipeline.common.staging import release_stage_dir
from pipeline.sources.discover import discover_one
from pipeline.sources.extract import ExtractSettings, extract_all
from pipeline.sources.extract_cache import read_cache


@dataclass
class ReportOutcome:
    """What one report's work gave: figures for the partition's metadata, or why it was rejected."""

    name: str
    sha256: str = ""
    pages: int | None = None
    rows: int = 0  # indicator rows parsed
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    extracted: bool = False  # False: its extraction was in the cache (here or in the store)
    reused: bool = False  # its parse, normalization and validation were in the cache
    seconds: float = 0.0
    rejected: str | None = None  # the stage and reason, one line
    warnings: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, object]:
        figures = {
            "file": self.name,
            "sha256": self.sha256,
            "pages": self.pages or 0,
            "rows": self.rows,
            "rows_valid": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "rows_flagged": self.rows_flagged,
            "extracted": self.extracted,
            "from_cache": self.reused,
            "seconds": round(self.seconds, 2),
            "warnings": len(self.warnings),
        }
        if self.rejected:
            figures["rejected"] = self.rejected
        return figures


def build_one_report(raw_dir: Path, name: str, extract: ExtractSettings, stage_dir: Path) -> ReportOutcome:
    """Extract, parse, normalize and validate the report `name` of `raw_dir` into the cache of `extract`;
    `stage_dir` is a scratch folder of this run, removed when done."""
    started = time.monotonic()
    outcome = ReportOutcome(name)
    found = discover_one(raw_dir, name)
    if not found.files:
        outcome.rejected = _line(found.errors[0]) if found.errors else "discover: not found"
        return _timed(outcome, started)
    file = found.files[0]
    outcome.sha256 = file.sha256
    extract = replace(extract, prune=False)  # the other reports' entries are not this run's to prune
    done, errors = extract_all([file], extract, progress=lambda _msg: None)
    outcome.warnings += [e.reason for e in errors if e.reason.startswith("warning:")]
    if not done:
        outcome.rejected = _line(next(e for e in errors if not e.reason.startswith("warning:")))
        return _timed(outcome, started)
    outcome.extracted = not done[0].from_cache
    outcome.pages = done[0].pages if done[0].pages is not None else _pages(done[0].cache_path)
    try:
        parsed = parse_all(found, done, stage_dir, extract.cache_dir, progress=lambda _msg: None)
        outcome.warnings += [e.reason for e in parsed.errors if e.reason.startswith("warning:")]
        rejected = [e for e in parsed.errors if not e.reason.startswith("warning:")]
        if rejected or not parsed.files:
            outcome.rejected = _line(rejected[0]) if rejected else "parse: no result"
            outcome.reused = parsed.from_cache > 0
            return _timed(outcome, started)
        outcome.rows = parsed.files[0].rows
        normalized = normalize_all(parsed, stage_dir, extract.cache_dir)
        validated = validate_all(normalized, extract.cache_dir)
    finally:
        release_stage_dir(stage_dir)
    outcome.reused = parsed.from_cache > 0 and normalized.from_cache > 0 and validated.from_cache > 0
    outcome.rows_valid = validated.rows_valid
    outcome.rows_quarantined = validated.rows_quarantined
    outcome.rows_flagged = validated.rows_flagged
    return _timed(outcome, started)


def _line(error) -> str:
    return f"{error.stage}: {error.reason}"


def _pages(cache_path: Path) -> int | None:
    pages = [line.page for line in read_cache(cache_path) if line.page is not None]
    return max(pages) if pages else None


def _timed(outcome: ReportOutcome, started: float) -> ReportOutcome:
    outcome.seconds = time.monotonic() - started
    return outcome
