"""A corpus typeset by Typst, for measuring the PDF reader on an engine it was not written against: the
rows of a corpus's truth.csv typeset again with the `typst` package (typst.compile).

    python -m pipeline.bench.typst_corpus TRUTH_DIR OUT [--seed 1] [--untagged] [--overflow]
    python -m pipeline.bench.typst_corpus --fixture tests/fixtures/pdf/f29_typst_hyphenated_tight.pdf

Writes one PDF per file of TRUTH_DIR/truth.csv into OUT, under the same name, with the report structure
of tagged_corpus (a cover title naming the district, report type and year; one table per run of rows
with the same header; a comment row after a row that has one) and copies truth.csv beside them, so the
corpus's scorer reads the warehouse built from OUT. Each report draws its own style from a seeded
random choice: font and size, a grid, horizontal rules, a rule under the header only or no stroke at
all, a shaded header, zebra rows, values aligned left, right or centred, the name column's width, cell
padding; the header is repeated on each page (table.header(repeat: true)); tables are hyphenated (with
--overflow they are not, and a header word wider than its column runs over into the next cell, as
Typst prints it). Typst writes a tagged PDF
(a StructTreeRoot with Table / TR / TH / TD); --untagged writes it without tags, for the geometric
reading alone. Needs the `typst` package (the "bench" extra); outside the product, like bench/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.bench.tagged_corpus import field_of, read_truth, title_of

FONTS = ["Liberation Sans", "DejaVu Sans", "Liberation Serif", "DejaVu Serif", "Liberation Sans Narrow"]
STROKES = {
    "grid": "0.5pt + luma(120)",
    "rows": "(x: none, y: 0.5pt + luma(120))",
    "header": "(x, y) => if y == 1 { (top: 0.8pt) } else { none }",
    "none": "none",
}


@dataclass(frozen=True)
class Style:
    font: str
    size: float
    stroke: str
    zebra: bool
    header_fill: bool
    align: str
    name_width: int
    inset: float
    # columns as drawn, however narrow, and no hyphenation: a word wider than its column runs over
    overflow: bool = False


def style_for(name: str, seed: int) -> Style:
    """One report's style, drawn from the file name and the seed (the same corpus every run)."""
    pick = random.Random(f"{seed}:{name}")
    return Style(
        font=pick.choice(FONTS),
        size=pick.choice([8, 8.5, 9, 9.5, 10]),
        stroke=pick.choice(sorted(STROKES)),
        zebra=pick.random() < 0.4,
        header_fill=pick.random() < 0.5,
        align=pick.choice(["right", "center", "left"]),
        name_width=pick.choice([30, 36, 42, 50]),
        inset=pick.choice([2, 3.5, 5]),
    )


def lit(text: str) -> str:
    """A Typst string literal: no markup in a cell is read as markup."""
    return json.dumps(text, ensure_ascii=False)


def table_source(heads: list[str], rows: list[dict[str, str]], style: Style) -> str:
    # the value columns share what the name column leaves (a wide table leaves them more)
    name_width = style.name_width if len(heads) <= 5 or style.overflow else min(style.name_width, 30)
    columns = ", ".join([f"{name_width}%"] + ["1fr"] * len(heads))
    aligns = ", ".join(["left"] + [style.align] * len(heads))
    fills = []
    if style.header_fill:
        fills.append("if y == 0 { luma(225) }")
    if style.zebra:
        fills.append("if y > 0 and calc.even(y) { luma(242) }")
    fill = f"(x, y) => {{ {' else '.join(fills)} }}" if fills else "none"
    header = ", ".join([lit("Indikator")] + [lit(h) for h in heads])
    cells = []
    for row in rows:
        cells.append(", ".join([lit(row["indicator"])] + [lit(row[field_of(h)]) for h in heads]))
        if row["comment"]:
            comment = lit("Kommentar: " + row["comment"])
            cells.append(f"table.cell(colspan: {len(heads) + 1}, align: left, emph({comment}))")
    # hyphenated: Typst lets a word wider than its column run over into the next cell, no report prints that
    size = style.size if len(heads) <= 5 or style.overflow else min(style.size, 8.5)
    return (
        f"#block[#set text(size: {size}pt, hyphenate: {str(not style.overflow).lower()})\n"
        f"#table(columns: ({columns}), align: ({aligns}), stroke: {STROKES[style.stroke]}, fill: {fill},"
        f" inset: {style.inset}pt,\n  table.header(repeat: true, ..({header},).map(strong)),\n  "
        + ",\n  ".join(cells)
        + ")]\n"
    )


def report_source(rows: list[dict[str, str]], style: Style) -> str:
    parts = [
        f'#set page(paper: "a4", margin: (x: 16mm, y: 18mm))\n#set text(font: {lit(style.font)},'
        f' size: {style.size}pt, lang: "sv")\n',
        f"#heading(level: 1, {lit(title_of(rows[0]))})\n\n#{lit('Sammanfattning av nämndens arbete.')}\n\n",
    ]
    for number, (header, table_rows) in enumerate(itertools.groupby(rows, key=lambda r: r["header"]), start=1):
        parts.append(f"#heading(level: 3, {lit(f'{number}.1 Mål för verksamhetsområdet')})\n")
        parts.append(table_source(header.split("|"), list(table_rows), style))
    return "".join(parts)


# The fixture f29: two tables of one report, each a Typst habit the geometric reader must handle.
FIXTURE_COMMENT = (
    "Jämfört med föregående år beror det längre resultatet på ett försämrat utfall i huvudsak på två frågor: "
    "”Min arbetsplats mål följs upp på ett bra sätt” och ”Min chef ger mig förutsättningar att ta ansvar i mitt "
    "arbete”."
)
FIXTURE_TABLES = [
    # rows ruled with 2pt padding: each rule cuts into the glyph boxes of the line above
    (
        "Årsmål|KF:s årsmål|Periodicitet",
        Style("DejaVu Serif", 9, "rows", False, False, "center", 42, 2),
        [
            ("Andel barn som lever i familjer som är beroende av ekonomiskt bistånd", "5,5 %", "4,0 %", "Tertial", ""),
            ("Andel trygga omsorgstagare i hemtjänsten", "89,37", "100", "År", FIXTURE_COMMENT),
            ("Antal tillhandahållna platser för Stockholmsjobb", "64 st", "-", "Tertial", ""),
        ],
    ),
    # no stroke, a header hyphenated over narrow columns, a comment close below a name filling its column
    (
        "Periodens utfall|Periodens utfall VB 2013|Prognos helår|Årsmål|KF:s årsmål|Period",
        Style("Liberation Sans", 8.5, "none", False, False, "left", 30, 2),
        [
            (
                "Andel brukare inom omsorgen för personer med funktionsnedsättning som är nöjda med sin bostad",
                "84,22 %",
                "81,5 %",
                "85 %",
                "86 %",
                "85 %",
                "Tertial",
                "Totalt har 37 brukare svarat på enkäten.",
            ),
            (
                "Andel ungdomar som deltar i föreningsliv",
                "49,08 %",
                "48,14 %",
                "50 %",
                "46,88 %",
                "Tas fram av nämnd",
                "Tertial",
                "",
            ),
        ],
    ),
]


def fixture_source() -> str:
    """f29_typst_hyphenated_tight: rules through the descender zone of a row's last line (table 1); a
    header hyphenated over narrow columns, a comment row close below a name that fills its column
    (table 2)."""
    meta = {"district": "Hässelby-Vällingby", "report_type": "Tertialrapport", "tertial": "1", "year": "2014"}
    parts = [
        '#set page(paper: "a4", margin: (x: 16mm, y: 18mm))\n#set text(font: "DejaVu Sans", size: 9pt, lang: "sv")\n',
        f"#heading(level: 1, {lit(title_of(meta))})\n\n",
        f"#heading(level: 2, {lit('1.2 Invånare i Stockholm är självförsörjande')})\n\n",
        f"#{lit('KF:s mål för verksamhetsområdet:')}\n\n#{lit('Uppfylls delvis')}\n\n",
    ]
    for number, (header, style, cells) in enumerate(FIXTURE_TABLES, start=1):
        heads = header.split("|")
        rows = [dict(zip(["indicator", *map(field_of, heads), "comment"], row, strict=True)) for row in cells]
        parts.append(f"#heading(level: 3, {lit(f'{number}.1 Mål för verksamhetsområdet')})\n")
        parts.append(f"#[#set text(font: {lit(style.font)})\n")
        parts.append(table_source(heads, rows, style) + "]\n")
    return "".join(parts)


def main() -> None:
    import typst  # the "bench" extra; only the generator needs it

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("truth_dir", type=Path, nargs="?")
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--untagged", action="store_true", help="write the PDFs without a structure tree")
    parser.add_argument("--overflow", action="store_true", help="tables not hyphenated: header words run over")
    parser.add_argument("--fixture", type=Path, help="write the untagged test fixture f29 to this PDF instead")
    args = parser.parse_args()
    if args.fixture:
        source = args.fixture.with_suffix(".typ")
        source.write_text(fixture_source(), encoding="utf-8")
        typst.compile(str(source), output=str(args.fixture), pdf_tags=False)
        source.unlink()
        return
    if not (args.truth_dir and args.out):
        parser.error("TRUTH_DIR and OUT, or --fixture PDF")
    args.out.mkdir(parents=True, exist_ok=True)
    source = args.out / ".typ"
    source.mkdir(exist_ok=True)
    for name, rows in itertools.groupby(read_truth(args.truth_dir), key=lambda r: r["file"]):
        stem = Path(name).stem
        style = replace(style_for(stem, args.seed), overflow=args.overflow)
        typ = source / f"{stem}.typ"
        typ.write_text(report_source(list(rows), style), encoding="utf-8")
        typst.compile(str(typ), output=str(args.out / f"{stem}.pdf"), pdf_tags=not args.untagged)
        print(stem, style)
    shutil.copyfile(args.truth_dir / "truth.csv", args.out / "truth.csv")
    print(f"{len(list(args.out.glob('*.pdf')))} PDFs in {args.out}")


if __name__ == "__main__":
    main()
