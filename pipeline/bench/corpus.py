"""A corpus of N reports for benchmarks, made from a few real ones.

    python -m pipeline.bench.corpus --count 120 OUT [SOURCE_DIR ...]

Copies the PDFs (and .txt reports) of the source folders round-robin until there are N files. Each
copy gets a PDF comment after its end (bytes a reader ignores), so every file has its own content
hash and is extracted on its own, and a manifest.csv row giving it an organisational unit of its own
("Kopia k"), so no two copies claim the same council, unit and period: every copy loads, as N
different reports would. Default source: the sample reports in raw/.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from pipeline.common.paths import PROJECT_DIR

SUFFIXES = (".pdf", ".txt")


def source_reports(folders: list[Path]) -> list[Path]:
    files = [p for folder in folders for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES]
    if not files:
        raise SystemExit(f"no .pdf or .txt reports in {', '.join(map(str, folders))}")
    return files


def copy_report(source: Path, target: Path, copy_no: int) -> None:
    if copy_no == 0:
        shutil.copyfile(source, target)
        return
    data = source.read_bytes()
    # A PDF comment after %%EOF, or a blank line at the end of a text: another hash, the same text.
    tail = f"\n%copy {copy_no}\n" if source.suffix.lower() == ".pdf" else "\n" * copy_no
    target.write_bytes(data + tail.encode("ascii"))


FIELDS = ["file", "district", "report_type", "year", "tertial", "org_unit"]


def source_manifest(folders: list[Path]) -> dict[str, dict[str, str]]:
    """The sources' own manifest rows (a report without a cover needs its row in the copy's manifest)."""
    rows: dict[str, dict[str, str]] = {}
    for folder in folders:
        path = folder / "manifest.csv"
        if path.exists():
            with open(path, encoding="utf-8-sig", newline="") as fh:
                rows.update({row["file"]: row for row in csv.DictReader(fh)})
    return rows


def make_corpus(out: Path, count: int, sources: list[Path]) -> list[Path]:
    """Write `count` reports and their manifest.csv into `out` (emptied first); gives the report paths."""
    files = source_reports(sources)
    manifest = source_manifest(sources)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written, rows = [], []
    for i in range(count):
        source = files[i % len(files)]
        copy_no = i // len(files)
        target = out / f"{i:04d}_{source.name}"
        copy_report(source, target, copy_no)
        written.append(target)
        row = {**manifest.get(source.name, {}), "file": target.name}
        if copy_no:
            row["org_unit"] = f"Kopia {copy_no}"
        if len(row) > 1:
            rows.append(row)
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return written


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m pipeline.bench.corpus", description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, required=True, help="how many reports to write")
    p.add_argument("out", help="folder to write (emptied first)")
    p.add_argument("sources", nargs="*", help=f"folders with reports to copy (default: {PROJECT_DIR / 'raw'})")
    args = p.parse_args(argv)
    sources = [Path(s) for s in args.sources] or [PROJECT_DIR / "raw"]
    written = make_corpus(Path(args.out), args.count, sources)
    print(f"{len(written)} reports in {args.out}")


if __name__ == "__main__":
    main()
