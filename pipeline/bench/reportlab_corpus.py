"""A corpus typeset by ReportLab: the rows of a corpus's truth.csv typeset again with platypus (Paragraph,
Table, TableStyle), the styling drawn at random per report, to measure the geometric reader on PDFs of
a typesetting engine it was not written against.

    python -m pipeline.bench.reportlab_corpus TRUTH_DIR OUT [--seed N]
    python -m pipeline.bench.reportlab_corpus TRUTH_DIR OUT --only FILE --first K --max-rows N \\
        --style lines=rows,... --fixture NAME   (a test fixture: one report's first rows, the style fixed)

Writes one PDF per file of TRUTH_DIR/truth.csv into OUT, under the same name (a cover title naming the
district, report type and year; one table per run of rows with the same header; a comment row after a
row that has one), and truth.csv beside them, so the corpus's scorer reads the warehouse built from OUT.
Per report: grid lines, rules under rows or none; zebra rows; header alignment; vertical alignment
(TOP, MIDDLE, BOTTOM); names in Paragraph cells wrapped to the column; the header repeated over page
breaks (repeatRows=1); column widths; Helvetica or an embedded TrueType font. Needs `reportlab`
(the "bench" extra); outside the product, like the rest of bench/.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.bench.tagged_corpus import field_of, title_of

TTF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TTF_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class Style:
    font: str
    bold: str
    size: float
    lines: str  # "grid", "rows" (a rule under each row), "box" (outer box and header rule), "none"
    zebra: bool
    header_align: str
    value_align: str
    valign: str
    name_share: float
    padding: float


def draw_style(rng: random.Random) -> Style:
    font, bold = ("Helvetica", "Helvetica-Bold")
    if rng.random() < 0.5 and TTF.exists():
        font, bold = ("DejaVu", "DejaVu-Bold")
    return Style(
        font=font,
        bold=bold,
        size=rng.choice([7.5, 8, 8.5, 9]),
        lines=rng.choice(["grid", "rows", "box", "none"]),
        zebra=rng.random() < 0.4,
        header_align=rng.choice(["LEFT", "CENTER", "RIGHT"]),
        value_align=rng.choice(["RIGHT", "RIGHT", "CENTER", "LEFT"]),
        valign=rng.choice(["TOP", "MIDDLE", "BOTTOM"]),
        name_share=rng.choice([0.3, 0.36, 0.42, 0.5]),
        padding=rng.choice([2, 3, 4, 6]),
    )


def with_overrides(style: Style, overrides: str | None) -> Style:
    """The style with the fields named in "field=value,..." set (a fixture's layout made on purpose)."""
    changes: dict[str, object] = {}
    for item in filter(None, (overrides or "").split(",")):
        key, value = item.split("=", 1)
        kind = type(getattr(style, key))
        changes[key] = value == "True" if kind is bool else kind(value)
    return replace(style, **changes)


def register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if TTF.exists() and "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(TTF)))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(TTF_BOLD)))


def table_style(style: Style, rows: int, comment_rows: list[int], columns: int) -> list:
    from reportlab.lib import colors

    commands: list = [
        ("FONT", (0, 0), (-1, 0), style.bold, style.size),
        ("FONT", (0, 1), (-1, -1), style.font, style.size),
        ("VALIGN", (0, 0), (-1, -1), style.valign),
        ("ALIGN", (1, 0), (-1, 0), style.header_align),
        ("ALIGN", (1, 1), (-1, -1), style.value_align),
        ("LEFTPADDING", (0, 0), (-1, -1), style.padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), style.padding),
        ("TOPPADDING", (0, 0), (-1, -1), style.padding / 2 + 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), style.padding / 2 + 1),
    ]
    if style.lines == "grid":
        commands.append(("GRID", (0, 0), (-1, -1), 0.5, colors.grey))
    elif style.lines == "rows":
        commands.append(("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.grey))
    elif style.lines == "box":
        commands += [("BOX", (0, 0), (-1, -1), 0.6, colors.black), ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black)]
    if style.zebra:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef1f6")]))
    else:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe5ee")))
    for row in comment_rows:
        commands += [("SPAN", (0, row), (-1, row)), ("FONT", (0, row), (-1, row), style.font, style.size)]
    return commands


def value_cell(text: str, room: float, style: Style, paragraph_style):
    """A value as a plain string, or as a Paragraph that wraps where it would not fit its column (a plain
    string runs over into the next cell, which no report prints)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    return text if stringWidth(text, style.font, style.size) <= room else Paragraph(escape(text), paragraph_style)


def build_table(style: Style, heads: list[str], rows: list[dict[str, str]], width: float):
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    leading = style.size * 1.2
    name_style = ParagraphStyle("name", fontName=style.font, fontSize=style.size, leading=leading)
    head_align = {"LEFT": 0, "CENTER": 1, "RIGHT": 2}[style.header_align]
    head_style = ParagraphStyle("head", fontName=style.bold, fontSize=style.size, leading=leading, alignment=head_align)
    comment_style = ParagraphStyle("comment", parent=name_style, fontName=style.font)
    data: list[list] = [[Paragraph("Indikator", name_style.clone("h0", fontName=style.bold))]]
    data[0] += [Paragraph(escape(h), head_style) for h in heads]
    name_width = width * style.name_share
    widths = [name_width] + [(width - name_width) / len(heads)] * len(heads)
    value_align = {"LEFT": 0, "CENTER": 1, "RIGHT": 2}[style.value_align]
    value_style = ParagraphStyle("value", parent=name_style, alignment=value_align)
    comment_rows = []
    for row in rows:
        values = [value_cell(row[field_of(h)], widths[1] - 2 * style.padding, style, value_style) for h in heads]
        data.append([Paragraph(escape(row["indicator"]), name_style)] + values)
        if row["comment"]:
            comment_rows.append(len(data))
            text = f"Kommentar: {escape(row['comment'])}"
            data.append([Paragraph(text, comment_style)] + [""] * len(heads))
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(table_style(style, len(data), comment_rows, len(heads) + 1)))
    return table


def write_report(rows: list[dict[str, str]], target: Path, style: Style, goal_lines: bool = False) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    doc = SimpleDocTemplate(str(target), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title_of(rows[0]))
    title = ParagraphStyle("title", fontName=style.bold, fontSize=16, leading=20, spaceAfter=10)
    body = ParagraphStyle("body", fontName=style.font, fontSize=10, leading=13, spaceAfter=8)
    heading = ParagraphStyle("heading", fontName=style.bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=6)
    story = [Paragraph(escape(title_of(rows[0])), title), Paragraph("Sammanfattning av nämndens arbete.", body)]
    if goal_lines:  # the goal lines every PDF fixture has (tests/test_pdf_layout.py reads them)
        story += [Paragraph("KF:s mål för verksamhetsområdet:", heading)]
        story += [Paragraph("1.2 Invånare i Stockholm är självförsörjande", heading)]
        story += [Paragraph("Uppfylls delvis", body)]
    for number, (header, table_rows) in enumerate(itertools.groupby(rows, key=lambda r: r["header"]), start=1):
        story.append(Paragraph(f"{number}.1 Mål för verksamhetsområdet", heading))
        story.append(build_table(style, header.split("|"), list(table_rows), doc.width))
        story.append(Spacer(1, 8))
    doc.build(story)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("truth_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="typeset this truth.csv file alone")
    parser.add_argument("--first", type=int, default=0, help="from this row of it on (0: its first)")
    parser.add_argument("--max-rows", type=int, help="at most this many of its rows")
    parser.add_argument("--fixture", help="write the one report as NAME.pdf, with the goal lines of the fixtures")
    parser.add_argument("--style", help="fix some of the style: lines=rows,header_align=RIGHT,padding=2 ...")
    args = parser.parse_args()
    register_fonts()
    with open(args.truth_dir / "truth.csv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, truth = reader.fieldnames, list(reader)
    if args.only:
        rows = [r for r in truth if r["file"] == args.only][args.first :]
        truth = rows[: args.max_rows]
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    for name, rows in itertools.groupby(truth, key=lambda r: r["file"]):
        style = with_overrides(draw_style(rng), args.style)
        target = args.out / (args.fixture + ".pdf" if args.fixture else Path(name).with_suffix(".pdf").name)
        write_report(list(rows), target, style, goal_lines=bool(args.fixture))
        print(f"{name}: {style}")
    with open(args.out / "truth.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(truth)
    print(f"{len(list(args.out.glob('*.pdf')))} PDFs in {args.out}")


if __name__ == "__main__":
    main()
