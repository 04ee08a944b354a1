"""The project's cold extraction, run as the `indicators` command runs it (pipeline/bench/__main__.py).

    python -m pipeline.bench.extract --workers N --cache DIR [--min-part-pages K] FILE ...

The main process has pipeline.cli loaded, with everything it imports, as under `indicators build`:
what that costs the extraction workers is part of what is measured. Prints one JSON line, with the
CPU time the process had spent before extracting (starting and importing: once per build, whatever
the number of files) as `startup_cpu_s`.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pipeline.cli  # noqa: F401 - the main process as `indicators build` has it
from pipeline.bench.passes import stop_forkserver
from pipeline.common.models import SourceFile
from pipeline.sources.discover import sha256_of
from pipeline.sources.extract import MIN_PART_PAGES, ExtractSettings, extract_all


def source_file(path: Path) -> SourceFile:
    return SourceFile(str(path), path.name, sha256_of(path), path.stat().st_size, path.suffix.lower().lstrip("."))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--min-part-pages", type=int, default=MIN_PART_PAGES, help="0: every file read whole")
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    startup_cpu_s = usage.ru_utime + usage.ru_stime  # the interpreter and pipeline.cli's imports
    files = [source_file(Path(f)) for f in args.files]
    start = time.perf_counter()
    done, errors = extract_all(
        files,
        ExtractSettings(Path(args.cache), workers=args.workers, min_part_pages=args.min_part_pages),
        progress=lambda _: None,
    )
    seconds = time.perf_counter() - start
    stop_forkserver()
    pages = sum(d.pages or 0 for d in done)
    peak = max((d.worker_peak_mb or 0 for d in done), default=0.0)
    parts = sum(d.parts for d in done)
    figures = {"pages": pages, "seconds": seconds, "rejected": len(errors), "worker_peak_mb": peak, "parts": parts}
    print(json.dumps({**figures, "startup_cpu_s": startup_cpu_s}))


if __name__ == "__main__":
    main()
