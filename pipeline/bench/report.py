"""Benchmark: what the offline report costs a build, at the corpus sizes the warehouse will have.

    python -m pipeline.bench.report [--sizes 24,120,600] [--folder DIR ...] [--workers N]
    python -m pipeline.bench.report --added 100,400 [--units K]

For each size N, one run prints: the build with the report off (INDICATORS_REPORT=0) and on (the nightly
default), each from scratch into a fresh folder (extraction included), the report alone on the first
warehouse, the site's size (every file's bytes) and its largest page. `--folder` measures real report
folders the same way (e.g. ../shared/corpus/pdf). Prints figures; asserts nothing.

The corpora grow as the real one does, by years and councils: N text reports made from the sample texts
(tests/fixtures/samples, and the .txt files in the raw folder), the councils of 2007 (the year of today's
districts) each with a first tertial report, an annual report and a plan, then those of 2008, and so on:
each copy is moved to its council and year (every year in its text shifted alike, the council's name
replaced) and named in a manifest.csv, so the build reads them as different reports of different councils.

`--added 100,400` builds, for each size, the report of N reports from scratch, then the warehouse
again with report N+1 (the next council's next report, as a nightly build meets it) and times the
report once more (the pages that report changes, plus what every run pays), then once more with
nothing changed (what every run pays). With `--units K` every council reports for K organisational
units a year, so a district page holds K units.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import re
import resource
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.common.paths import PROJECT_DIR
from pipeline.common.reference import DATA_DIR
from pipeline.orchestration.settings import BuildSettings
from pipeline.report.data import slug

SAMPLES = PROJECT_DIR / "tests" / "fixtures" / "samples"
# template file stem -> (report type, tertial, year printed on it, district printed on it)
TEMPLATES = {
    "000_3e9cf77e5c646f75": ("tertialrapport_1", "1", 2014, "Hässelby-Vällingby"),
    "001_e413b7b4eec749f1": ("tertialrapport_1", "1", 2021, "Hägersten-Älvsjö"),
    "002_80d6a2513fda4bdc": ("tertialrapport_1", "1", 2019, "Hässelby-Vällingby"),
    "003_130f0561e7be4d6d": ("verksamhetsplan", "", 2020, "Rinkeby-Kista"),
    "004_05871d331dd0cb08": ("verksamhetsberattelse", "", 2013, "Östermalm"),
}
KINDS = ("tertialrapport_1", "verksamhetsberattelse", "verksamhetsplan")  # three reports a council a year
YEARS = tuple(range(2007, 2026))  # 14 councils to 2019, 13 since: 780 reports
SIZES = (24, 120, 600)
_YEAR = re.compile(r"\b(19[9]\d|20[0-3]\d)\b")


def _template_text(stem: str, raw: Path) -> str:
    for folder in (raw, SAMPLES):
        path = folder / f"{stem}.txt"
        if path.exists():
            return path.read_text(encoding="utf-8")
    raise SystemExit(f"no text of sample {stem} in {raw} or {SAMPLES}")


def _districts_of(year: int) -> list[str]:
    with open(DATA_DIR / "districts.csv", encoding="utf-8") as f:
        return [
            r["district"]
            for r in csv.DictReader(f)
            if int(r["valid_from"]) <= year and (not r["valid_to"] or int(r["valid_to"]) >= year)
        ]


def make_reports(raw: Path, out: Path, count: int, units: int = 1) -> int:
    """Write `count` text reports and their manifest.csv into `out`; gives how many were written. With
    `units` > 1 each council reports for that many organisational units each year (the first unnamed)."""
    out.mkdir(parents=True, exist_ok=True)
    texts = {stem: _template_text(stem, raw) for stem in TEMPLATES}
    templates = {kind: itertools.cycle([s for s, t in TEMPLATES.items() if t[0] == kind]) for kind in KINDS}
    rows = []
    combos = [(y, u, d, kind) for y in YEARS for u in range(units) for d in _districts_of(y) for kind in KINDS]
    if count > len(combos):
        raise SystemExit(f"at most {len(combos)} reports ({len(YEARS)} years of every council, {units} units)")
    for i, (year, unit, district, kind) in enumerate(combos[:count]):
        stem = next(templates[kind])
        report_type, tertial, printed_year, printed_district = TEMPLATES[stem]
        shift = year - printed_year
        text = _YEAR.sub(lambda m, shift=shift: str(int(m.group(1)) + shift), texts[stem])
        text = text.replace(printed_district, district) + "\n" * unit  # each unit's copy: a content of its own
        org_unit = f"Enhet {unit + 1}" if unit else ""
        name = f"{i:03d}_{report_type}_{year}_{slug(district)}" + (f"_{slug(org_unit)}" if unit else "") + ".txt"
        (out / name).write_text(text, encoding="utf-8")
        rows.append([name, district, report_type, year, tertial, org_unit])
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["file", "district", "report_type", "year", "tertial", "org_unit"])
        writer.writerows(rows)
    return len(rows)


def _build(raw: Path, warehouse: Path, workers: int, report: bool = False) -> tuple[dict[str, int], float, float]:
    """A build from scratch; gives its summary, its wall time and its CPU time (this process and the
    extraction workers: on a shared machine the steadier figure)."""
    from pipeline.cli import run_build

    os.environ["INDICATORS_REPORT"] = "1" if report else "0"
    started, cpu = time.perf_counter(), _cpu_s(children=True)
    ok, summary, _ = run_build(BuildSettings(raw_dir=str(raw), warehouse_path=str(warehouse), workers=workers))
    if not ok:
        raise SystemExit(f"build of {raw} failed")
    return summary, time.perf_counter() - started, _cpu_s(children=True) - cpu


def _cpu_s(children: bool = False) -> float:
    """CPU seconds of this process (and of its ended child processes)."""
    usage = [resource.getrusage(resource.RUSAGE_SELF)]
    if children:
        usage.append(resource.getrusage(resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usage)


def site_size(site: Path) -> tuple[int, int, str]:
    """Bytes of every file of a site, and its largest page (bytes, path)."""
    files = [p for p in site.resolve().rglob("*") if p.is_file()]
    pages = [(p.stat().st_size, str(p.relative_to(site.resolve()))) for p in files if p.suffix == ".html"]
    largest = max(pages, default=(0, "-"))
    return sum(p.stat().st_size for p in files), *largest


def measure(raw: Path, scratch: Path, workers: int) -> str:
    """The build with the report off, then on, each from scratch; the report alone; the site."""
    from pipeline.report.site import build_report

    summary, off, off_cpu = _build(raw, scratch / "off" / "indicators.duckdb", workers)
    _, on, on_cpu = _build(raw, scratch / "on" / "indicators.duckdb", workers, report=True)
    cpu = _cpu_s()
    report = build_report(scratch / "off" / "indicators.duckdb", scratch / "off" / "report", raw, workers)
    cpu = _cpu_s() - cpu
    size, largest, page = site_size(scratch / "off" / "report")
    return (
        f"{summary['reports_loaded']} reports, {summary['rows_loaded']} rows: build with the report off "
        f"{off:.1f} s ({off_cpu:.1f} s CPU), on {on:.1f} s ({on_cpu:.1f} s CPU; {on - off:+.1f} s, "
        f"{on_cpu - off_cpu:+.1f} s CPU); report alone {report.seconds:.1f} s ({cpu:.1f} s CPU, "
        f"{cpu / off_cpu:.0%} of the build's), {report.pages} pages, {report.charts} charts; "
        f"site {size / 1e6:.1f} MB, largest page {largest / 1e3:.0f} kB ({page})"
    )


def _time_added(raw: Path, scratch: Path, count: int, workers: int, units: int) -> str:
    """The report of `count` reports from scratch, then again once the warehouse has one report more, and
    once more with nothing changed. The last two in this process (1 worker): their CPU seconds are all
    the work, charts included, which says more than the wall time on a busy machine."""
    from pipeline.report.site import build_report

    base = scratch / f"added-{count}"
    make_reports(raw, base / "raw", count, units)
    warehouse = base / "indicators.duckdb"
    _build(base / "raw", warehouse, workers)
    first = build_report(warehouse, base / "report", base / "raw", workers)
    make_reports(raw, base / "raw", count + 1, units)  # the same files again and one more
    _build(base / "raw", warehouse, workers)
    cpu = _cpu_s()
    again = build_report(warehouse, base / "report", base / "raw", workers=1)
    cpu, same_cpu = _cpu_s() - cpu, _cpu_s()
    same = build_report(warehouse, base / "report", base / "raw", workers=1)
    same_cpu = _cpu_s() - same_cpu
    steps = " ".join(f"{step} {s:.2f}" for step, s in getattr(again, "steps", {}).items())
    return (
        f"{count} reports: whole report {first.seconds:.1f} s ({first.pages} pages, {first.charts} charts)\n"
        f"  one report added: {again.seconds:.1f} s ({cpu:.1f} s CPU), {again.pages_written} pages written, "
        f"{again.charts_drawn} charts drawn{f' (s: {steps})' if steps else ''}\n"
        f"  nothing changed: {same.seconds:.1f} s ({same_cpu:.1f} s CPU)"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m pipeline.bench.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--raw", default=str(PROJECT_DIR / "raw"), help="where the sample texts are besides the tests'")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="corpus sizes to generate and measure")
    p.add_argument("--folder", action="append", default=[], help="a real folder of reports to measure as well")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--added", help="sizes (e.g. 100,400) at which to time the report after one report is added")
    p.add_argument("--units", type=int, default=1, help="with --added: organisational units per council and year")
    args = p.parse_args(argv)
    raw = Path(args.raw)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        scratch = Path(tmp)
        print(f"what the report costs a build (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        if args.added:
            for count in (int(n) for n in args.added.split(",")):
                print(_time_added(raw, scratch, count, args.workers, args.units), flush=True)
            return
        # a first build pays what only the first pays in a process (imports, Dagster's set-up), so neither
        # measured build does
        make_reports(raw, scratch / "warm-up" / "raw", 1)
        _build(scratch / "warm-up" / "raw", scratch / "warm-up" / "indicators.duckdb", args.workers, report=True)
        for i, folder in enumerate(Path(f) for f in args.folder):
            print(f"{folder}: " + measure(folder, scratch / f"folder-{i}", args.workers), flush=True)
        for count in (int(n) for n in args.sizes.split(",") if n):
            written = make_reports(raw, scratch / f"n{count}" / "raw", count)
            line = measure(scratch / f"n{count}" / "raw", scratch / f"n{count}", args.workers)
            print(f"{written} generated: {line}", flush=True)
            shutil.rmtree(scratch / f"n{count}", ignore_errors=True)


if __name__ == "__main__":
    main()
