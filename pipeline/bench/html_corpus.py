"""Synthetic reports typeset by headless Chromium, with exact truth, for measuring the PDF reader.

    python -m pipeline.bench.html_corpus OUT [--count 10] [--seed 1] [--chromium chromium]

Writes OUT/NNN_chromium_<seed>.pdf (the .html it printed in OUT/.html/) and OUT/truth.csv in the layout
corpus's format
(one row per indicator row, cells as typeset), so `score.py WAREHOUSE OUT/truth.csv` scores a build
of OUT. Each report draws its own CSS (fonts, alignment of headers and values, padding, borders or
none, zebra rows, dark headers, narrow centred tables), its own header wording ("Utfall T1 2017",
"KF:s årsmål", a spanning "Utfall" over "Totalt | Män/pojkar | Kvinnor/flickor"), column order and
number habits (no-break and narrow no-break thousands, U+2212 minus, "5,79%"). Names come from the
indicator catalog; values are random. Chromium prints a header repeated on every page of a long table.
"""

from __future__ import annotations

import argparse
import csv
import html
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.paths import PROJECT_DIR

DATA = PROJECT_DIR / "pipeline" / "common" / "data"
TRUTH_FIELDS = [
    "file",
    "district",
    "report_type",
    "year",
    "tertial",
    "page",
    "indicator",
    "header",
    "outcome",
    "outcome_men",
    "outcome_women",
    "prev_outcome",
    "prev_label",
    "forecast",
    "target",
    "city_target",
    "period",
    "comment",
]
FONTS = ["Liberation Sans", "DejaVu Sans", "Carlito", "Liberation Serif", "DejaVu Serif", "Noto Sans"]
PROSE = [
    "Förvaltningen har under perioden arbetat vidare med att utveckla det förebyggande arbetet tillsammans med "
    "skolor, föreningar och polisen.",
    "Stadens medarbetarenkät har genomförts under perioden och resultaten diskuteras på arbetsplatsträffar.",
    "Andelen nöjda brukare ligger i nivå med föregående år; enheterna följer upp synpunkter och klagomål löpande.",
    "Verksamheten bedöms nå årsmålen för de flesta indikatorer, med undantag för de som redovisas nedan.",
]
GOALS = [
    "I Stockholm är människor självförsörjande och vägen till arbete och svenskkunskaper är kort",
    "Stockholm är en trygg, säker och välskött stad att bo och vistas i",
    "I Stockholm får människor i behov av stöd insatser i tid präglade av hög kvalitet",
    "Stockholm har en budget i balans och långsiktigt hållbara finanser",
]
COMMENTS = ["Utfallet påverkas av att färre svarade på enkäten.", "Arbetet fortsätter enligt plan under hösten."]
SPACES = {"space": " ", "nbsp": "\u00a0", "nnbsp": "\u202f"}


@dataclass
class Report:
    seed: int
    district: str
    kind: str  # Tertialrapport, Verksamhetsberättelse, Verksamhetsplan
    year: int
    tertial: int | None
    habits: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        part = f" {self.tertial}" if self.tertial else ""
        return f"{self.kind}{part} {self.year}"


def districts(year: int) -> list[str]:
    with open(DATA / "districts.csv", encoding="utf-8") as fh:
        return [
            r["district"]
            for r in csv.DictReader(fh)
            if int(r["valid_from"]) <= year and (not r["valid_to"] or year <= int(r["valid_to"]))
        ]


def indicator_names() -> list[str]:
    with open(DATA / "indicators.csv", encoding="utf-8") as fh:
        return [r["indicator"] for r in csv.DictReader(fh)]


# --- header wording and column order -------------------------------------------------------------


def header_words(rep: Report, rnd: random.Random) -> list[tuple[str, str]]:
    """(measure, header text) per value column, in printed order."""
    y, t = rep.year, rep.tertial
    if rep.kind == "Verksamhetsplan":
        cols: list[tuple[str, str]] = [
            ("target", rnd.choice(["Årsmål", f"Årsmål {y}"])),
            ("city_target", rnd.choice(["KF:s årsmål", f"KF:s årsmål {y}", f"KF-mål {y}"])),
            ("period", "Periodicitet"),
        ]
    else:
        if t:
            outcome = rnd.choice(["Periodens utfall", f"Utfall T{t} {y}", f"Utfall tertial {t} {y}", "Utfall"])
        else:
            outcome = rnd.choice(["Periodens utfall", f"Utfall {y}", "Utfall"])
        cols = [("outcome", outcome)]
        if y >= 2019:
            cols += [("outcome_men", "Utfall män/pojkar"), ("outcome_women", "Utfall kvinnor/flickor")]
        cols.append(("prev_outcome", rnd.choice([f"Periodens utfall VB {y - 1}", f"Utfall VB {y - 1}"])))
        if t:
            cols.append(("forecast", rnd.choice(["Prognos helår", f"Prognos helår {y}"])))
        cols += [
            ("target", rnd.choice(["Årsmål", f"Årsmål {y}"])),
            ("city_target", rnd.choice(["KF:s årsmål", f"KF:s årsmål {y}"])),
            ("period", "Period"),
        ]
    if rnd.random() < 0.3:  # the city's target before the council's
        i, j = [m for m, _ in cols].index("target"), [m for m, _ in cols].index("city_target")
        cols[i], cols[j] = cols[j], cols[i]
    if rnd.random() < 0.25:  # Period right after the name
        cols.insert(0, cols.pop())
    return cols


# --- cells ---------------------------------------------------------------------------------------


def number(value: float, decimals: int, habits: dict) -> str:
    text = f"{abs(value):,.{decimals}f}".replace(",", "§").replace(".", ",").replace("§", SPACES[habits["thousands"]])
    return (habits["minus"] if value < 0 else "") + text


def row_cells(rep: Report, name: str, cols: list[tuple[str, str]], rnd: random.Random) -> dict[str, str]:
    """The cells of one row; a count only for "Antal …" (the catalog knows the others as shares or
    indices, and a gate holds back a percentage out of range)."""
    h = rep.habits
    kind = "count" if name.startswith("Antal") else rnd.choice(["pct", "pct", "index", "signed"])
    base = {
        "pct": rnd.uniform(0.5, 99),
        "count": rnd.uniform(200, 25000),
        "index": rnd.uniform(40, 95),
        "signed": rnd.uniform(-8, 8),
    }[kind]
    decimals = {"pct": rnd.choice([0, 1, 2]), "count": 0, "index": rnd.choice([0, 1]), "signed": 1}[kind]
    unit = {"pct": h["pct"], "count": "", "index": "", "signed": ""}[kind]

    def cell(scale: float = 1.0) -> str:
        value = base * scale * rnd.uniform(0.9, 1.1)
        if kind == "signed":
            value = base + rnd.uniform(-2, 2)
        return number(value, decimals, h) + unit

    out: dict[str, str] = {}
    for measure, _ in cols:
        if measure == "period":
            if rep.kind == "Verksamhetsplan":
                out[measure] = rnd.choice(["År", "Tertial", "Halvår"])
            else:
                out[measure] = rnd.choice(
                    [f"Tertial {rep.tertial} {rep.year}" if rep.tertial else str(rep.year), "År", "Tertial"]
                )
        elif rnd.random() < 0.12:
            out[measure] = ""  # an empty cell
        elif measure == "target" and rnd.random() < 0.08:
            out[measure] = "Tas fram av nämnd"
        elif measure == "city_target" and rnd.random() < 0.1:
            out[measure] = rnd.choice(["Tas fram av nämnd", f"Fastställs {rep.year}", "tas fram av nämnden"])
        else:
            out[measure] = cell()
    return out


# --- HTML ----------------------------------------------------------------------------------------


def style(rnd: random.Random) -> str:
    font = rnd.choice(FONTS)
    size = rnd.choice([8, 8.5, 9, 9.5, 10, 11])
    pad = rnd.choice(["1pt 3pt", "2pt 4pt", "4pt 6pt", "6pt 5pt", "3pt 8pt"])
    border = rnd.choice(["none", "grid", "rows", "head"])
    rules = {
        "none": "",
        "grid": "td, th { border: 0.6pt solid #444; }",
        "rows": "tr { border-bottom: 0.5pt solid #999; }",
        "head": "thead th { border-bottom: 1pt solid #000; }",
    }
    head_bg = rnd.choice(["", "background:#dde4ee;", "background:#1f3a5f; color:#fff;", "background:#eee;"])
    zebra = "tbody tr:nth-child(even) td { background:#f0f3f7; }" if rnd.random() < 0.4 else ""
    width = rnd.choice(["100%", "100%", "88%", "75%"])
    return f"""
@page {{ size: A4 {rnd.choice(["portrait"] * 4 + ["landscape"])}; margin: {rnd.choice([15, 20, 25])}mm; }}
body {{ font-family: '{rnd.choice(FONTS)}'; font-size: {rnd.choice([9.5, 10, 11])}pt;
        text-align: {rnd.choice(["left", "justify"])}; }}
table {{ border-collapse: collapse; width: {width}; text-align: left; margin: 6pt auto;
        font-family: '{font}'; font-size: {size}pt;
         letter-spacing: {rnd.choice(["normal", "normal", "0.02em", "0.04em"])}; }}
th {{ text-align: {rnd.choice(["left", "center", "right"])}; vertical-align: {rnd.choice(["top", "middle", "bottom"])};
      font-weight: {rnd.choice(["bold", "normal"])}; padding: {pad}; {head_bg} }}
td {{ padding: {pad}; vertical-align: {rnd.choice(["top", "middle", "top"])}; }}
td.v {{ text-align: {rnd.choice(["right", "right", "center", "left"])}; }}
td.name {{ width: {rnd.choice([30, 35, 40, 45, 50])}%; }}
td.note {{ font-style: italic; }}
tr {{ break-inside: {rnd.choice(["avoid", "auto"])}; }}
{rules[border]}
{zebra}
"""


def header_html(cols: list[tuple[str, str]], spanning: bool) -> str:
    if spanning:  # "Utfall" over Totalt | Män/pojkar | Kvinnor/flickor
        top, sub, i = ['<th rowspan="2">Indikator</th>'], [], 0
        while i < len(cols):
            if cols[i][0] == "outcome":
                top.append('<th colspan="3">Utfall</th>')
                sub += ["<th>Totalt</th>", "<th>Män/pojkar</th>", "<th>Kvinnor/flickor</th>"]
                i += 3
            else:
                top.append(f'<th rowspan="2">{html.escape(cols[i][1])}</th>')
                i += 1
        return f"<thead><tr>{''.join(top)}</tr><tr>{''.join(sub)}</tr></thead>"
    cells = "".join(f"<th>{html.escape(text)}</th>" for _, text in cols)
    return f"<thead><tr><th>Indikator</th>{cells}</tr></thead>"


@dataclass
class Layout:
    """A report's layout fixed instead of drawn at random (the test fixtures)."""

    css: str
    counts: list[int]  # rows per table
    spanning: bool  # a spanning "Utfall" over the outcome columns
    district: str = "Hässelby-Vällingby"
    # the goal lines every PDF fixture opens with (tests/test_pdf_layout.py reads them)
    lead: str = (
        "<p><b>KF:s mål för verksamhetsområdet:</b></p><h2>1.2 Invånare i Stockholm är självförsörjande</h2>"
        "<p>Uppfylls delvis</p>"
    )


def table(
    rep: Report, names: list[str], rnd: random.Random, truth: list[dict], file: str, spanning: bool | None = None
) -> str:
    cols = header_words(rep, rnd)
    if spanning is None:
        spanning = rnd.random() < 0.3
    spanning = spanning and rep.year >= 2019 and rep.kind != "Verksamhetsplan"
    if spanning:  # the three outcome columns must stand together, in their order
        rest = [c for c in cols if c[0] not in ("outcome", "outcome_men", "outcome_women")]
        cols = [("outcome", "Totalt"), ("outcome_men", "Män/pojkar"), ("outcome_women", "Kvinnor/flickor")] + rest
    header = "|".join(
        text if not spanning or m not in ("outcome", "outcome_men", "outcome_women") else f"Utfall {text}"
        for m, text in cols
    )
    prev_label = next((t.split()[-2] + " " + t.split()[-1] for m, t in cols if m == "prev_outcome"), "")
    rows = []
    for name in names:
        cells = row_cells(rep, name, cols, rnd)
        tds = "".join(f'<td class="v">{html.escape(cells[m])}</td>' for m, _ in cols)
        rows.append(f'<tr><td class="name">{html.escape(name)}</td>{tds}</tr>')
        comment = ""
        if rnd.random() < 0.1:
            comment = rnd.choice(COMMENTS)
            rows.append(f'<tr><td class="note" colspan="{len(cols) + 1}">Kommentar: {html.escape(comment)}</td></tr>')
        truth.append(
            {
                "file": file,
                "district": rep.district,
                "report_type": rep.kind,
                "year": rep.year,
                "tertial": rep.tertial or "",
                "page": "",
                "indicator": name,
                "header": header,
                "prev_label": prev_label if "prev_outcome" in cells else "",
                "comment": comment,
                **cells,
            }
        )
    return f"<table>{header_html(cols, spanning)}<tbody>{''.join(rows)}</tbody></table>"


def report_html(rep: Report, rnd: random.Random, truth: list[dict], file: str, layout: Layout | None = None) -> str:
    names = indicator_names()
    rnd.shuffle(names)
    d = rep.district
    parts = [
        f"""<div style="break-after: page"><p>Handläggare:<br>Anna Berg<br>Telefon: 08-508 00 000</p>
<p>Till<br>{d} stadsdelsnämnd</p><p>{rep.year if rep.kind != "Verksamhetsplan" else rep.year - 1}-05-20</p>
<h1 style="font-size:14pt">{rep.title} för {d} stadsdelsnämnd</h1>
<h2 style="font-size:12pt">Förslag till beslut</h2><p>1. Nämnden godkänner förvaltningens förslag.</p></div>"""
    ]
    if layout:
        parts.append(layout.lead)
    taken = 0
    counts = layout.counts if layout else [rnd.choice([2, 4, 6, 9, 14, 30]) for _ in range(rnd.randint(2, 4))]
    for g, (goal, count) in enumerate(zip(rnd.sample(GOALS, len(counts)), counts, strict=True), start=1):
        parts.append(f"<h2>1.{g} {html.escape(goal)}</h2><p>{' '.join(rnd.sample(PROSE, 2))}</p>")
        count = count if taken < 150 else 2
        rows = names[taken : taken + count]
        parts.append("<h3>Indikatorer</h3>" + table(rep, rows, rnd, truth, file, layout and layout.spanning))
        parts.append(f"<p>{rnd.choice(PROSE)}</p>")
        taken += count
    css = layout.css if layout else style(rnd)
    return (
        f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{rep.title}</title>'
        f"<style>{css}</style></head><body>{''.join(parts)}</body></html>"
    )


def make_report(seed: int) -> Report:
    rnd = random.Random(seed)
    kind = rnd.choice(["Tertialrapport", "Tertialrapport", "Verksamhetsberättelse", "Verksamhetsplan"])
    year = rnd.randint(2013, 2026)
    habits = {
        "thousands": rnd.choice(list(SPACES)),
        "minus": rnd.choice(["-", "\u2212"]),
        "pct": rnd.choice([" %", "%", "\u00a0%"]),
    }
    return Report(
        seed, rnd.choice(districts(year)), kind, year, rnd.choice([1, 2]) if kind == "Tertialrapport" else None, habits
    )


# Two layouts for tests/fixtures/pdf (the tests read the committed PDFs; Chromium is not needed there).
_FIXTURE_BASE = """
@page { size: A4 portrait; margin: 20mm; }
body { font-family: 'Liberation Sans'; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 6pt auto; font-size: 8pt; }
td.name { width: 40%; }
tr { break-inside: auto; }
"""
FIXTURES = {
    # Chromium's own header style (bold, centred, also "Indikator" over left-aligned names), cells
    # centred vertically, zebra rows shaded cell by cell, a header repeated over a page break
    "f25_chromium_centred_cells": Layout(
        _FIXTURE_BASE + "td { padding: 2pt 4pt; vertical-align: middle; } td.v { text-align: right; }"
        "tbody tr:nth-child(even) td { background: #f0f3f7; }",
        [3, 40],
        spanning=False,
    ),
    # a ruled grid with a two-row header ("Utfall" over Totalt | Män/pojkar | Kvinnor/flickor),
    # headers bottom-aligned, rows cut by the page break
    "f26_chromium_ruled_spanning": Layout(
        _FIXTURE_BASE + "th { vertical-align: bottom; } td, th { border: 0.6pt solid #444; padding: 3pt 5pt; }"
        "td { vertical-align: top; } td.v { text-align: left; }",
        [4, 30],
        spanning=True,
        district="Rinkeby-Kista",
    ),
}


def make_fixture(name: str, out: Path, chromium: str) -> Path:
    """One fixture report (Tertialrapport 1 2019, no-break thousands, U+2212, "5,79%") and its truth."""
    rep = Report(
        20190, FIXTURES[name].district, "Tertialrapport", 2019, 1, {"thousands": "nbsp", "minus": "\u2212", "pct": "%"}
    )
    truth: list[dict] = []
    source = out / ".html" / f"{name}.html"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(report_html(rep, random.Random(sum(map(ord, name))), truth, f"{name}.pdf", FIXTURES[name]))
    print_pdf(chromium, source, out / f"{name}.pdf")
    with open(out / f"{name}.truth.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TRUTH_FIELDS)
        writer.writeheader()
        writer.writerows(truth)
    return out / f"{name}.pdf"


def print_pdf(chromium: str, source: Path, target: Path) -> None:
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def make_corpus(out: Path, count: int, seed: int, chromium: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    truth: list[dict] = []
    written = []
    for i in range(count):
        rep = make_report(seed * 1000 + i)
        stem = f"{i:03d}_chromium_{rep.seed}"
        source = out / ".html" / f"{stem}.html"  # a dot folder: not a report file of the raw folder
        source.parent.mkdir(exist_ok=True)
        source.write_text(report_html(rep, random.Random(rep.seed + 7), truth, f"{stem}.pdf"), encoding="utf-8")
        print_pdf(chromium, source, out / f"{stem}.pdf")
        written.append(out / f"{stem}.pdf")
    with open(out / "truth.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TRUTH_FIELDS)
        writer.writeheader()
        writer.writerows(truth)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--fixture", choices=sorted(FIXTURES), help="one fixed layout instead of random reports")
    args = parser.parse_args()
    if args.fixture:
        print(make_fixture(args.fixture, args.out, args.chromium))
        return
    for path in make_corpus(args.out, args.count, args.seed, args.chromium):
        print(path)


if __name__ == "__main__":
    main()
