"""The header of a table without vertical borders: its lines, and the columns they name.

A header cell may wrap over several lines, and the cells of one header need not share a baseline:
top-aligned cells start on the line of "Indikator", bottom-aligned ones end on it, vertically centred
ones stand around it. The header is the "Indikator" line and the lines right above and below it that
keep clear of the name column, in the table's text size, a line's spacing apart, with no drawn rule
between them (lines below it must read as header words, not values). Its columns are the pieces of
those lines that stand over one another; where the table draws its header cells (shaded boxes, or a
rule drawn cell by cell), the drawn cells are the columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipeline.pdf.drawing import Drawing
from pipeline.pdf.glyphs import Glyph
from pipeline.pdf.lines import Line, split_words

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Lines of one wrapped header cell are at most this far apart (line spacing; rows are further apart).
HEADER_LINE_GAP_EM = 0.6
# Text of another size than the header's is not part of it.
HEADER_SIZE_TOLERANCE = 0.6
# A header line ends at most this far right of the "Indikator" line's end.
HEADER_OVERHANG_EM = 5.0
# The lines right below a header that say how far right its table reaches.
ROWS_SEEN = 6
# Text inside a drawn cell may reach this far past its edge (rounding, a border's width).
CELL_EDGE_TOLERANCE = 1.0

# Words that start a header cell (capitalised), also where two header cells nearly touch; prefixes, as a
# narrow cell breaks them ("Periode" / "ns", "Progn" / "os").
HEADER_CELL_START = ("Period", "Utfall", "Progn", "Årsm", "Arsm", "KF", "Startdatum", "Slutdatum", "Avvikelse")
# A line below the "Indikator" line is header text only if it holds no value: no number but a year.
VALUE_TEXT = re.compile(r"%|\d[\d\s]*,\d|(?<!\d)\d{1,3}(?!\d)|(?<!\d)\d{5,}")


def ink_extent(glyphs: list[Glyph]) -> tuple[float, float]:
    """x0 and x1 of the glyphs, spaces at either end left out."""
    first = next((g for g in glyphs if not g.is_space), glyphs[0])
    last = next((g for g in reversed(glyphs) if not g.is_space), glyphs[-1])
    return first.x0, last.x1


def header_cell_starts(line: Line) -> list[float]:
    """Where the header's cells start on one line: at each piece of the line, and at each header
    keyword inside a piece, since neighbouring header cells may nearly touch ("Perioden Perioden Årsmål")."""
    return [piece[0].x0 for piece in header_pieces(line)]


def header_pieces(line: Line) -> list[list[Glyph]]:
    """The line cut where header cells start (see header_cell_starts), spaces at the ends left out."""
    pieces: list[list[Glyph]] = []
    for chunk in line.chunks:
        for index, word in enumerate(split_words(chunk.glyphs)):
            text = "".join(g.text for g in word).strip()
            inked = [g for g in word if not g.is_space] or word
            if index == 0 or (text[:1].isupper() and text.startswith(HEADER_CELL_START)):
                pieces.append([])
            cut = 0
            # cells with no gap at all between them: "PeriodenPrognos"
            for at in range(1, min(len(inked), len(text))):
                if text[at - 1].islower() and text[at].isupper() and text[at:].startswith(HEADER_CELL_START):
                    pieces[-1].extend(inked[cut:at])
                    pieces.append([])
                    cut = at
            pieces[-1].extend(inked[cut:])
    return [piece for piece in pieces if piece]


def header_block(lines: list[Line], index: int, drawing: Drawing) -> tuple[int, int]:
    """The lines lines[first:last] of the header whose "Indikator" line is lines[index]."""
    anchor = lines[index]
    name_end = ink_extent(anchor.words[0])[1]
    # header cells on other baselines may reach past the "Indikator" line's end, up to where the
    # table's rows below it end
    rows = lines[index + 1 : index + 1 + ROWS_SEEN]
    rows_right = [line.x1 for line in rows if abs(line.size - anchor.size) <= HEADER_SIZE_TOLERANCE]
    right = max([anchor.x1, *rows_right]) + HEADER_OVERHANG_EM * anchor.size
    gap = HEADER_LINE_GAP_EM * anchor.size

    def joins(line: Line, upper: Line, lower: Line, below: bool) -> bool:
        if abs(line.size - anchor.size) > HEADER_SIZE_TOLERANCE or line.x0 <= name_end or line.x1 > right:
            return False
        if lower.top - upper.bottom > gap or drawing.separates(upper.bottom, lower.top, line.x0):
            return False
        return not (below and VALUE_TEXT.search(line.text))

    first = index
    while first > 0 and joins(lines[first - 1], lines[first - 1], lines[first], below=False):
        first -= 1
    last = index + 1
    while last < len(lines) and joins(lines[last], lines[last - 1], lines[last], below=True):
        last += 1
    return first, last


def header_columns(
    block: list[Line], anchor: Line, drawing: Drawing, right: float, body_bottom: float | None = None
) -> tuple[list[float], list[float]]:
    """(where each column's header text starts, the x between columns where the table draws its
    header cells or, failing that, the cells of its rows down to `body_bottom`, else []), for the
    header lines `block` around the "Indikator" line `anchor`."""
    if len(block) == 1:
        starts = header_cell_starts(anchor)
        pieces = [[(piece[0].x0, ink_extent(piece)[1])] for piece in header_pieces(anchor)]
    else:
        pieces = stacked_columns(block, anchor)
        starts = [min(x0 for x0, _ in column) for column in pieces]
    mid = (anchor.top + anchor.bottom) / 2
    spans = [[(x0, x1, mid) for x0, x1 in column] for column in pieces]
    top = min(line.top for line in block)
    bottom = max(line.bottom for line in block)
    edges = drawing.cell_edges(top, bottom, anchor.x0, right, reach=anchor.size) if drawing else []
    drawn_at = drawing.box_edge_at if edges and drawing.shaded_band(top, bottom) else None
    if drawing and not edges and body_bottom is not None:
        edges = drawing.row_cell_edges(bottom, body_bottom, anchor.x0, right)
    if not edges:
        return starts, []
    # word by word: header cells that nearly touch may read as one piece of a line
    words = [
        [(w[0].x0, ink_extent(w)[1], (line.top + line.bottom) / 2)]
        for line in block
        for chunk in line.chunks
        for w in split_words(chunk.glyphs)
    ]
    return drawn_columns(words, edges, drawn_at) or drawn_columns(spans, edges, drawn_at) or (starts, [])


def stacked_columns(block: list[Line], anchor: Line) -> list[list[tuple[float, float]]]:
    """The header's columns: the pieces of its lines (see header_pieces) that stand over one another,
    left to right, each a list of (x0, x1). A piece that spans two columns of another line is taken
    word by word."""
    rows = [[(piece[0].x0, ink_extent(piece)[1], piece) for piece in header_pieces(line)] for line in block]
    columns = cluster(rows)
    wide = set()
    for column in columns:
        for row in rows:
            mine = [p for p in row if any(p is q for q in column)]
            if len(mine) < 2:
                continue
            for other in column:
                if sum(1 for p in mine if overlaps(p, other)) >= 2:
                    wide.add(id(other))
    if wide:
        rows = [
            [(w[0].x0, ink_extent(w)[1], w) for p in row for w in (split_words(p[2]) if id(p) in wide else [p[2]])]
            for row in rows
        ]
        columns = cluster(rows)
    return [[(x0, x1) for x0, x1, _ in column] for column in columns]


def overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def cluster(rows: list[list[tuple]]) -> list[list[tuple]]:
    """Pieces of different lines that overlap horizontally -> one column; columns left to right."""
    pieces = [(r, p) for r, row in enumerate(rows) for p in row]
    parent = list(range(len(pieces)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (ri, a) in enumerate(pieces):
        for j in range(i + 1, len(pieces)):
            rj, b = pieces[j]
            if ri != rj and overlaps(a, b):
                parent[root(i)] = root(j)
    groups: dict[int, list[tuple]] = {}
    for i, (_, p) in enumerate(pieces):
        groups.setdefault(root(i), []).append(p)
    return sorted(groups.values(), key=lambda column: min(p[0] for p in column))


def drawn_columns(
    columns: list[list[tuple[float, float, float]]],
    edges: list[float],
    drawn_at: Callable[[float, float], bool] | None = None,
) -> tuple[list[float], list[float]] | None:
    """The header's columns fitted to drawn cell edges: every piece (x0, x1, y) inside one drawn
    cell, unless the edge it crosses is not drawn at its height (`drawn_at`: a spanning cell's
    word over the cells under it goes to the cell of its centre); the pieces of one cell are one
    column; a drawn cell without header text (a column of marker glyphs) joins the column to its
    left (the first column, if it has none). None if some header text crosses a drawn edge."""
    cells: dict[int, list[tuple[float, float]]] = {}
    for column in columns:
        for x0, x1, y in column:
            cell = sum(1 for edge in edges if edge <= (x0 + x1) / 2)
            crossed = [e for e in edges if x0 + CELL_EDGE_TOLERANCE < e < x1 - CELL_EDGE_TOLERANCE]
            if any(drawn_at is None or drawn_at(e, y) for e in crossed):
                return None
            cells.setdefault(cell, []).append((x0, x1))
    used = sorted(cells)
    if len(used) < 2:
        return None
    starts = [min(x0 for x0, _ in cells[cell]) for cell in used]
    # the edge left of each used cell but the first; an empty cell goes with its right neighbour
    bounds = [edges[cell - 1] for cell in used[1:]]
    return starts, bounds
