"""Benchmark: extraction against plain pdfminer.six and pypdfium2, and whole-build speed and memory.

    python -m pipeline.bench [--corpus DIR] [--workers N] [--skip-build] [--profile]
    python -m pipeline.bench --rebuilds 30,120,500 [--sources DIR ...]

Prints figures; asserts nothing. On the PDFs of one folder, in one run, each pass in a fresh process
of its own: the project's cold extraction (as `indicators build` runs it), pdfminer.six's plain
glyph pass (laparams=None) and pypdfium2's text pass, with the same number of worker processes;
pages/s, CPU seconds (user + system, the workers included) and the ratios to the plain pass. Then
the whole build: cold (empty caches), warm (nothing changed) and peak memory. With --rebuilds, per
corpus size: the first build, one with nothing changed, one with a new report, one with a changed one.
A corpus of any size: `python -m pipeline.bench.corpus --count 120 DIR` (README, Benchmarks).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.paths import PROJECT_DIR
from pipeline.sources.extract import MIN_PART_PAGES
from pipeline.sources.extract_worker import PROFILE_ENV


@dataclass
class PassFigures:
    name: str
    pages: int
    seconds: float
    cpu_s: float
    startup_cpu_s: float = 0.0  # of cpu_s: the main process starting and importing, once per run

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(name: str, command: list[str], env: dict[str, str] | None = None) -> PassFigures:
    """Run one pass in a process of its own; its CPU time includes every process it started."""
    before = _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR, env=env)
    cpu = _children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return PassFigures(name, figures["pages"], figures["seconds"], cpu, figures.get("startup_cpu_s", 0.0))


def bench_extraction(corpus: Path, workers: int, scratch: Path, profile: Path | None = None) -> list[PassFigures]:
    pdfs = sorted(str(p) for p in corpus.iterdir() if p.suffix.lower() == ".pdf")
    if not pdfs:
        raise SystemExit(f"no PDFs in {corpus}")
    py, w = sys.executable, str(workers)
    env = {**os.environ, PROFILE_ENV: str(profile)} if profile else None
    return [
        run_measured(
            "project extraction (cold)",
            [py, "-m", "pipeline.bench.extract", "--workers", w, "--cache", str(scratch / "cache"), *pdfs],
            env,
        ),
        run_measured("pdfminer.six glyph pass", [py, "-m", "pipeline.bench.passes", "plain", "--workers", w, *pdfs]),
        run_measured("pypdfium2 text pass", [py, "-m", "pipeline.bench.passes", "pdfium", "--workers", w, *pdfs]),
    ]


def bench_long_file(corpus: Path, workers: int, scratch: Path) -> list[PassFigures]:
    """The longest PDF alone, read whole by one worker and shared among the workers by pages."""
    longest = max((p for p in corpus.iterdir() if p.suffix.lower() == ".pdf"), key=lambda p: p.stat().st_size)
    py, w = sys.executable, str(workers)
    passes = []
    for label, min_pages in (("read whole", "0"), ("in parts", str(MIN_PART_PAGES))):
        cache = scratch / f"long-{min_pages}"
        command = [py, "-m", "pipeline.bench.extract", "--workers", w, "--cache", str(cache)]
        passes.append(run_measured(f"longest PDF, {label}", [*command, "--min-part-pages", min_pages, str(longest)]))
    return passes


def print_extraction(figures: list[PassFigures], reference: bool = True) -> None:
    """The passes; with `reference`, the second is pdfminer's plain pass and the ratios are to it.
    A pass whose main process started `indicators build`'s way gets a second line: the same with
    that start-up (imports of Dagster, Polars, DuckDB, pandas: a fixed cost per build) counted."""
    plain = figures[1]
    last = f"{'CPU / plain':>11}" if reference else ""
    print(f"{'pass':<34} {'pages':>6} {'wall s':>8} {'pages/s':>8} {'CPU s':>8} {last}")

    def row(name: str, f: PassFigures, cpu: float) -> None:
        ratio = f" {cpu / plain.cpu_s:>10.2f}x" if reference and plain.cpu_s else ""
        print(f"{name:<34} {f.pages:>6} {f.seconds:>8.1f} {f.pages_per_s:>8.1f} {cpu:>8.1f}{ratio}")

    for f in figures:
        row(f.name, f, f.cpu_s - f.startup_cpu_s)
        if f.startup_cpu_s:
            row("  + the build's start-up", f, f.cpu_s)


def print_profile(folder: Path, top: int = 20) -> None:
    """The extraction workers' functions with the most time of their own, all workers together."""
    import pstats

    files = sorted(str(p) for p in folder.glob("*.prof"))
    if not files:
        print("no worker profiles written")
        return
    print(f"\nprofile of {len(files)} extraction workers, top {top} by own time:")
    pstats.Stats(*files, stream=sys.stdout).sort_stats("tottime").print_stats(top)


def bench_build(raw: Path, workers: int, scratch: Path) -> tuple[float, float, dict[str, int]]:
    from pipeline.cli import run_build
    from pipeline.orchestration.settings import BuildSettings

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


# --- rebuilds at several corpus sizes ------------------------------------------------------------


def _cli_build(raw: Path, warehouse: Path, workers: int) -> tuple[float, float, str]:
    """One `indicators build` in a process of its own, as the nightly runs it: wall s, CPU s, last line."""
    indicators = Path(sys.executable).parent / "indicators"
    command = [str(indicators), "build", "--raw", str(raw), "--warehouse", str(warehouse), "--workers", str(workers)]
    before, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR)
    wall, cpu = time.perf_counter() - start, _children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"build of {raw} failed:\n{done.stderr[-2000:]}")
    return wall, cpu, done.stdout.splitlines()[0]


def prime_extraction_cache(corpus: Path, cache_dir: Path, sources: list[Path], workers: int, scratch: Path) -> None:
    """Each PDF copy's extraction is its source's (the copies differ after %%EOF only): extract every
    source once and file the result under each copy's hash, so a size of 500 does not take an hour
    of extraction before the figures that matter here."""
    from pipeline.bench.corpus import source_reports
    from pipeline.bench.extract import source_file
    from pipeline.sources.extract import ExtractSettings, extract_all
    from pipeline.sources.extract_cache import cache_path

    sources_by_name = {p.name: source_file(p) for p in source_reports(sources) if p.suffix.lower() == ".pdf"}
    source_cache = scratch / "source-cache"
    done, _ = extract_all(list(sources_by_name.values()), ExtractSettings(source_cache, workers), lambda _: None)
    extracted = {d.file.name: d.cache_path for d in done}
    for path in corpus.glob("*.pdf"):
        source = path.name.split("_", 1)[1]
        if source in extracted:
            target = cache_path(cache_dir, source_file(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(extracted[source], target)


def bench_rebuilds(sizes: list[int], sources: list[Path], workers: int, scratch: Path) -> None:
    from pipeline.bench.corpus import make_corpus
    from pipeline.report.site import report_wanted

    report = "the offline report included" if report_wanted() else "no offline report (INDICATORS_REPORT=0)"
    print(
        f"{'reports':>7}  {'first build':>16}  {'nothing changed':>16}  {'one new report':>16}  "
        f"{'one changed':>16}   (wall s / CPU s; {report}; extraction cache primed)"
    )
    for n in sizes:
        corpus, aside = scratch / f"corpus-{n}", scratch / f"aside-{n}"
        written = make_corpus(corpus, n + 1, sources)
        newcomer = written[-1]  # held back, then added: the one new report
        aside.mkdir()
        newcomer = newcomer.rename(aside / newcomer.name)
        warehouse = scratch / f"wh-{n}" / "indicators.duckdb"
        prime_extraction_cache(corpus, warehouse.parent / ".cache", sources, workers, scratch)
        first = _cli_build(corpus, warehouse, workers)
        unchanged = _cli_build(corpus, warehouse, workers)
        if "up to date" not in unchanged[2]:
            raise SystemExit(f"a build with nothing changed was not up to date: {unchanged[2]}")
        newcomer.rename(corpus / newcomer.name)
        added = _cli_build(corpus, warehouse, workers)
        changed_file = next(p for p in sorted(corpus.glob("*.pdf")))
        with open(changed_file, "ab") as fh:
            fh.write(b"\n%changed\n")
        changed = _cli_build(corpus, warehouse, workers)
        cells = "  ".join(f"{w:7.1f} / {c:6.1f}" for w, c, _ in (first, unchanged, added, changed))
        print(f"{n:>7}  {cells}", flush=True)
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(warehouse.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", "--raw", default=str(PROJECT_DIR / "raw"), help="folder of reports (default raw/)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--skip-build", action="store_true", help="extraction figures only")
    p.add_argument("--profile", action="store_true", help="cProfile every extraction worker; print the top functions")
    p.add_argument(
        "--rebuilds",
        metavar="N,N,...",
        help="instead: rebuild figures (first, nothing changed, one new, one changed report) at these corpus sizes, "
        "the corpora generated from --sources",
    )
    p.add_argument("--sources", nargs="*", default=[], help="folders to copy reports from (default: raw/)")
    args = p.parse_args(argv)
    if args.rebuilds:
        scratch = Path(tempfile.mkdtemp(prefix="indicators-bench-"))
        try:
            sources = [Path(s).resolve() for s in args.sources] or [PROJECT_DIR / "raw"]
            bench_rebuilds([int(n) for n in args.rebuilds.split(",")], sources, args.workers, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    corpus = Path(args.corpus).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="indicators-bench-"))
    try:
        print(f"input: {corpus}, {args.workers} workers")
        profile = scratch / "profile" if args.profile else None
        if profile:
            profile.mkdir()
        print_extraction(bench_extraction(corpus, args.workers, scratch, profile))
        if args.workers > 1:
            print()
            print_extraction(bench_long_file(corpus, args.workers, scratch), reference=False)
        if profile:
            print_profile(profile)
        if args.skip_build:
            return
        cold, warm, summary = bench_build(corpus, args.workers, scratch)
        print(f"whole build, cold caches:    {cold:7.2f} s")
        print(f"whole build, nothing changed: {warm:7.2f} s")
        print(f"rows loaded: {summary['rows_loaded']}, reports loaded: {summary['reports_loaded']}")
        print(f"peak memory of the build process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
