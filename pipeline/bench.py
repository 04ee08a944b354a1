"""Benchmark: extraction speed, whole-build speed (cold and warm cache) and peak memory.

    python -m pipeline.bench [--raw DIR] [--workers N] [--repeat N]

Prints figures; asserts nothing. Cold = empty extraction cache, warm = a rebuild with every file
already extracted. Peak memory is the largest resident set of the build process and of any one extraction worker.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.assets import PROJECT_DIR, BuildSettings
from pipeline.discover import discover_reports
from pipeline.extract import ExtractSettings, extract_all


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def _pdf_pages(extracted) -> int:
    return sum(e.pages or 0 for e in extracted)


def bench_extract(raw: Path, workers: int, scratch: Path) -> tuple[float, int, int, float]:
    found = discover_reports(raw)
    settings = ExtractSettings(scratch / "cache", workers=workers)
    start = time.perf_counter()
    done, _errors = extract_all(found.files, settings, progress=lambda _msg: None)
    worker_peak = max((e.worker_peak_mb or 0 for e in done), default=0.0)
    return time.perf_counter() - start, _pdf_pages(done), len(done), worker_peak


def bench_build(raw: Path, workers: int, scratch: Path) -> tuple[float, float, dict[str, int]]:
    from pipeline.cli import run_build

    settings = BuildSettings(
        raw_dir=str(raw), warehouse_path=str(scratch / "wh" / "indicators.duckdb"), workers=workers
    )
    start = time.perf_counter()
    ok, summary, _ = run_build(settings)
    cold = time.perf_counter() - start
    if not ok:
        raise SystemExit("build failed")
    start = time.perf_counter()
    ok, _, _ = run_build(settings)
    warm = time.perf_counter() - start
    return cold, warm, summary


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--raw", default=str(PROJECT_DIR / "raw"))
    p.add_argument("--workers", type=int, default=None)
    args = p.parse_args(argv)
    raw = Path(args.raw).resolve()
    workers = args.workers or BuildSettings().workers
    scratch = Path(tempfile.mkdtemp(prefix="indicators-bench-"))
    try:
        seconds, pages, files, worker_peak = bench_extract(raw, workers, scratch)
        print(f"input: {raw} ({files} files, {pages} PDF pages), {workers} workers")
        print(f"extract only, cold cache: {seconds:6.2f} s  {pages / seconds if seconds else 0:7.1f} pages/s")
        cold, warm, summary = bench_build(raw, workers, scratch)
        print(f"whole build, cold cache:  {cold:6.2f} s  {pages / cold if cold else 0:7.1f} pages/s")
        print(f"whole build, warm cache:  {warm:6.2f} s  {pages / warm if warm else 0:7.1f} pages/s")
        print(f"rows loaded: {summary['rows_loaded']}, reports loaded: {summary['reports_loaded']}")
        print(
            f"peak memory: build process {_peak_mb(resource.RUSAGE_SELF):.0f} MB, "
            f"largest extraction worker {worker_peak:.0f} MB"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
