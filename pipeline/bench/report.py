"""Benchmark: how long the offline report takes for the sample warehouse and for one of 100 reports, and
what one report added costs the report of a warehouse of N reports.

    python -m pipeline.bench.report [--raw DIR] [--reports N] [--workers N] [--added N,M,...] [--units K]

Prints figures; asserts nothing. The large warehouse is built from N text reports made from the
sample texts (tests/fixtures/samples, and the .txt files in the raw folder): each copy is moved to
another district and year (every year in its text shifted alike, the district's name replaced) and
named in a manifest.csv, so the build reads them as different reports of different councils.

`--added 100,400` builds, for each size, the report of N reports from scratch, then the warehouse
again with report N+1 (the next council's next report, as a nightly build meets it) and times the
report once more (the pages that report changes, plus what every run pays), then once more with
nothing changed (what every run pays). With `--units K` every council reports for K organisational
units a year, so a district page holds K units and there are K times as many charts.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import re
import resource
import tempfile
from pathlib import Path

from pipeline.common.paths import PROJECT_DIR
from pipeline.common.reference import DATA_DIR
from pipeline.orchestration.settings import BuildSettings
from pipeline.report.data import slug

SAMPLES = PROJECT_DIR / "tests" / "fixtures" / "samples"
# template file stem -> (report type, tertial, year printed on it, district printed on it)
TEMPLATES = {
    "000_3e9cf77e5c646f75": ("tertialrapport_1", "1", 2014, "Hässelby-Vällingby"),
    "002_80d6a2513fda4bdc": ("tertialrapport_1", "1", 2019, "Hässelby-Vällingby"),
    "004_05871d331dd0cb08": ("verksamhetsberattelse", "", 2013, "Östermalm"),
}
YEARS = tuple(range(2010, 2026))  # 436 reports: 14 councils to 2019, 13 since
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
    tertial_templates = itertools.cycle([s for s, t in TEMPLATES.items() if t[0] == "tertialrapport_1"])
    rows = []
    kinds = ("tertialrapport_1", "verksamhet")
    combos = [(y, u, d, kind) for y in YEARS for u in range(units) for d in _districts_of(y) for kind in kinds]
    for i, (year, unit, district, kind) in enumerate(combos[:count]):
        stem = next(tertial_templates) if kind == "tertialrapport_1" else "004_05871d331dd0cb08"
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


def _build(raw: Path, warehouse: Path, workers: int) -> dict[str, int]:
    from pipeline.cli import run_build

    os.environ["INDICATORS_REPORT"] = "0"  # the report is timed on its own below
    ok, summary, _ = run_build(BuildSettings(raw_dir=str(raw), warehouse_path=str(warehouse), workers=workers))
    if not ok:
        raise SystemExit(f"build of {raw} failed")
    return summary


def _cpu_s() -> float:
    """CPU seconds of this process (with one worker the charts are drawn here, V8 threads included)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _time_report(warehouse: Path, raw: Path, out: Path, workers: int) -> str:
    """Once in this process (wall and CPU time), then with `workers` processes drawing charts (wall)."""
    from pipeline.report.site import build_report

    cpu = _cpu_s()
    one = build_report(warehouse, out, raw, workers=1)
    cpu = _cpu_s() - cpu
    text = f"{one.pages} pages, {one.charts} charts: 1 worker {one.seconds:.1f} s ({cpu:.1f} s CPU)"
    if workers > 1:
        text += f", {workers} workers {build_report(warehouse, out, raw, workers).seconds:.1f} s"
    return text


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
    p.add_argument("--raw", default=str(PROJECT_DIR / "raw"))
    p.add_argument("--reports", type=int, default=100)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--added", help="sizes (e.g. 100,400) at which to time the report after one report is added")
    p.add_argument("--units", type=int, default=1, help="with --added: organisational units per council and year")
    args = p.parse_args(argv)
    raw = Path(args.raw)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        scratch = Path(tmp)
        print(f"report build time (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        if args.added:
            for count in (int(n) for n in args.added.split(",")):
                print(_time_added(raw, scratch, count, args.workers, args.units), flush=True)
            return
        summary = _build(raw, scratch / "sample" / "indicators.duckdb", args.workers)
        print(
            f"sample warehouse ({summary['reports_loaded']} reports, {summary['rows_loaded']} rows): "
            + _time_report(scratch / "sample" / "indicators.duckdb", raw, scratch / "sample" / "report", args.workers)
        )
        many = scratch / "many-raw"
        written = make_reports(raw, many, args.reports)
        summary = _build(many, scratch / "many" / "indicators.duckdb", args.workers)
        print(
            f"{written} reports ({summary['reports_loaded']} loaded, {summary['rows_loaded']} rows): "
            + _time_report(scratch / "many" / "indicators.duckdb", many, scratch / "many" / "report", args.workers)
        )


if __name__ == "__main__":
    main()
