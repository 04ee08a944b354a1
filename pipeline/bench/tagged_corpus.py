"""A tagged corpus for measuring the structure-tree reader: the rows of a corpus's truth.csv typeset again
by headless Chromium, whose print to PDF writes a structure tree (Table / TR / TH / TD, no TD for an
empty cell, the header repeated on each page).

    python -m pipeline.bench.tagged_corpus TRUTH_DIR OUT [--untagged OUT2]

Writes one PDF per file of TRUTH_DIR/truth.csv into OUT, under the same name (a cover title naming
the district, report type and year; one table per run of rows with the same header; a comment row
after a row that has one), and copies truth.csv beside them, so the corpus's scorer reads the
warehouse built from OUT. With --untagged, the same PDFs with their structure tree made unreachable
(the catalog's /StructTreeRoot renamed, every byte offset kept) go to OUT2: the geometric reading of
the very same pages. Needs `chromium` on PATH; outside the product, like the rest of bench/.
"""

from __future__ import annotations

import argparse
import csv
import html
import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

# truth.csv's column for each printed header ("Periodens utfall VB <year>" is last year's outcome)
FIELDS = {
    "Periodens utfall": "outcome",
    "Utfall män/pojkar": "outcome_men",
    "Utfall kvinnor/flickor": "outcome_women",
    "Prognos helår": "forecast",
    "Årsmål": "target",
    "KF:s årsmål": "city_target",
    "Period": "period",
    "Periodicitet": "period",
}
STYLE = """@page { size: A4; margin: 18mm 16mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; margin: 8pt 0; }
th, td { border: 0.5pt solid #999; padding: 2.5pt; vertical-align: top; font-size: 8.5pt; }
th { background: #e4e9f2; text-align: left; } td.v { text-align: right; } td.c { font-style: italic; }"""


def field_of(header: str) -> str:
    return "prev_outcome" if header.startswith("Periodens utfall VB") else FIELDS[header]


def title_of(row: dict[str, str]) -> str:
    kind, year = row["report_type"], row["year"]
    what = f"Tertialrapport {row['tertial']} {year}" if kind == "Tertialrapport" else f"{kind} {year}"
    return f"{what} för {row['district']} stadsdelsnämnd"


def report_html(rows: list[dict[str, str]]) -> str:
    body = [f"<h1>{html.escape(title_of(rows[0]))}</h1>", "<p>Sammanfattning av nämndens arbete.</p>"]
    for number, (header, table_rows) in enumerate(itertools.groupby(rows, key=lambda r: r["header"]), start=1):
        heads = header.split("|")
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
        body.append(f"<h3>{number}.1 Mål för verksamhetsområdet</h3><table><thead><tr>")
        body.append(f"<th style='width:38%'>Indikator</th>{cells}</tr></thead><tbody>")
        for row in table_rows:
            values = "".join(f"<td class='v'>{html.escape(row[field_of(h)])}</td>" for h in heads)
            body.append(f"<tr><td>{html.escape(row['indicator'])}</td>{values}</tr>")
            if row["comment"]:
                comment = html.escape(row["comment"])
                body.append(f"<tr><td class='c' colspan='{len(heads) + 1}'>Kommentar: {comment}</td></tr>")
        body.append("</tbody></table>")
    head = f"<meta charset='utf-8'><style>{STYLE}</style>"
    return f"<!DOCTYPE html><html lang='sv'><head>{head}</head><body>{''.join(body)}</body></html>"


def read_truth(truth_dir: Path) -> list[dict[str, str]]:
    with open(truth_dir / "truth.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def print_to_pdf(source: Path, target: Path) -> None:
    command = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu"]
    command += ["--no-pdf-header-footer", f"--print-to-pdf={target}", str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("truth_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--untagged", type=Path, help="also write the PDFs without a reachable structure tree")
    args = parser.parse_args()
    truth = read_truth(args.truth_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in itertools.groupby(truth, key=lambda r: r["file"]):
            source = Path(tmp) / "report.html"
            source.write_text(report_html(list(rows)), encoding="utf-8")
            print_to_pdf(source, args.out / Path(name).with_suffix(".pdf").name)
    shutil.copyfile(args.truth_dir / "truth.csv", args.out / "truth.csv")
    if args.untagged:
        args.untagged.mkdir(parents=True, exist_ok=True)
        for pdf in sorted(args.out.glob("*.pdf")):
            (args.untagged / pdf.name).write_bytes(pdf.read_bytes().replace(b"/StructTreeRoot", b"/StructTreeRooX"))
        shutil.copyfile(args.truth_dir / "truth.csv", args.untagged / "truth.csv")
    print(f"{len(list(args.out.glob('*.pdf')))} tagged PDFs in {args.out}")


if __name__ == "__main__":
    main()
