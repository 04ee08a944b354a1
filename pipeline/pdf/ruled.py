"""Tables with borders, rebuilt from the drawn edges.

Connected horizontal and vertical borders make a grid: a row between two horizontal borders, its cells
between the vertical borders crossing the whole row. Each glyph goes to the cell that holds its centre,
so the order in which the PDF emits its text does not matter; glyphs in no cell are body text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.pdf.cells import Cell, Row, Table
from pipeline.pdf.glyphs import Glyph, Segment
from pipeline.pdf.lines import group_into_lines

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Border segments closer than this are the same border (LibreOffice draws fills and borders 0.05 pt apart).
EDGE_SNAP = 1.5
# Spaces between two horizontal borders lower than this are double borders, not rows.
MIN_ROW_HEIGHT = 3.0
# Cells narrower than this are gaps between double vertical borders.
MIN_CELL_WIDTH = 3.0
# Largest believable inner cell padding; beyond it the text is centred or right-aligned, not padded.
MAX_CELL_PADDING = 6.0


@dataclass
class Band:
    """The space between two horizontal borders of a grid: one table row."""

    top: float
    bottom: float
    separators: list[float]  # x of the vertical borders crossing the whole band, left to right
    # per cell, whether a border is drawn under it; a cell without one spans into the band below
    closed_below: list[bool] = field(default_factory=list)

    def spans_down(self) -> bool:
        return not all(self.closed_below)


@dataclass
class Grid:
    left: float
    right: float
    top: float
    bottom: float
    bands: list[Band]

    @property
    def is_table(self) -> bool:
        # A frame with one cell per row is a box around text, not a table.
        return any(len(band.separators) > 2 for band in self.bands)


def merge_segments(segments: list[Segment]) -> list[Segment]:
    """Collinear, overlapping or touching segments -> one segment each."""
    merged: list[Segment] = []
    for seg in sorted(segments, key=lambda s: (s.pos, s.lo)):
        if not extend_collinear(merged, seg):
            merged.append(Segment(seg.pos, seg.lo, seg.hi))
    return merged


def extend_collinear(merged: list[Segment], seg: Segment) -> bool:
    """Grow a merged segment on the same border line that `seg` overlaps; False if there is none."""
    # look back only over segments on the same border line (a border is a handful of pieces)
    for other in reversed(merged):
        if seg.pos - other.pos > EDGE_SNAP:
            return False
        if seg.lo <= other.hi + EDGE_SNAP and seg.hi >= other.lo - EDGE_SNAP:
            other.lo, other.hi = min(other.lo, seg.lo), max(other.hi, seg.hi)
            return True
    return False


def cluster_positions(values: Iterable[float]) -> list[float]:
    clustered: list[float] = []
    for value in sorted(values):
        if not clustered or value - clustered[-1] > EDGE_SNAP:
            clustered.append(value)
    return clustered


def find_grids(horizontals: list[Segment], verticals: list[Segment]) -> list[Grid]:
    """Connected horizontal+vertical borders -> grids. O(H*V) over border segments, not glyphs."""
    hs, vs = merge_segments(horizontals), merge_segments(verticals)
    parent = list(range(len(hs) + len(vs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for hi, h in enumerate(hs):
        for vi, v in enumerate(vs):
            if h.lo - EDGE_SNAP <= v.pos <= h.hi + EDGE_SNAP and v.lo - EDGE_SNAP <= h.pos <= v.hi + EDGE_SNAP:
                parent[root(hi)] = root(len(hs) + vi)

    components: dict[int, tuple[list[Segment], list[Segment]]] = defaultdict(lambda: ([], []))
    for hi, h in enumerate(hs):
        components[root(hi)][0].append(h)
    for vi, v in enumerate(vs):
        components[root(len(hs) + vi)][1].append(v)

    grids = []
    for comp_h, comp_v in components.values():
        if len(comp_h) >= 2 and len(comp_v) >= 2:
            grid = grid_from_borders(comp_h, comp_v)
            if grid.bands and grid.is_table:
                grids.append(grid)
    return grids


def grid_from_borders(hs: list[Segment], vs: list[Segment]) -> Grid:
    ys = cluster_positions(h.pos for h in hs)
    # A row cut by the page break has no border at the cut: its vertical borders end there.
    lowest, highest = min(v.lo for v in vs), max(v.hi for v in vs)
    if lowest < ys[0] - MIN_ROW_HEIGHT:
        ys.insert(0, lowest)
    if highest > ys[-1] + MIN_ROW_HEIGHT:
        ys.append(highest)
    bands = []
    for top, bottom in zip(ys, ys[1:], strict=False):
        if bottom - top < MIN_ROW_HEIGHT:
            continue
        crossing = [v.pos for v in vs if v.lo <= top + EDGE_SNAP and v.hi >= bottom - EDGE_SNAP]
        separators: list[float] = []
        for x in cluster_positions(crossing):
            if not separators or x - separators[-1] >= MIN_CELL_WIDTH:
                separators.append(x)
        if len(separators) >= 2:
            under = [(h.lo, h.hi) for h in hs if abs(h.pos - bottom) <= EDGE_SNAP]
            closed = [
                any(lo <= (a + b) / 2 <= hi for lo, hi in under)
                for a, b in zip(separators, separators[1:], strict=False)
            ]
            bands.append(Band(top, bottom, separators, closed))
    return Grid(
        left=min(v.pos for v in vs),
        right=max(v.pos for v in vs),
        top=ys[0],
        bottom=ys[-1],
        bands=bands,
    )


def split_glyphs_by_grid(
    glyphs: list[Glyph], grids: list[Grid]
) -> tuple[dict[tuple[int, int, int], list[Glyph]], list[Glyph]]:
    """Each glyph -> (grid, band, cell) by its centre, or to the body text if it is in no cell."""
    in_cells: dict[tuple[int, int, int], list[Glyph]] = defaultdict(list)
    if not grids:  # most pages
        return in_cells, glyphs
    outside: list[Glyph] = []
    band_tops = [[band.top for band in grid.bands] for grid in grids]
    for glyph in glyphs:
        key = locate_in_grids(glyph, grids, band_tops)
        if key is None:
            outside.append(glyph)
        else:
            in_cells[key].append(glyph)
    return in_cells, outside


def locate_in_grids(glyph: Glyph, grids: list[Grid], band_tops: list[list[float]]) -> tuple[int, int, int] | None:
    x, y = glyph.mid_x, glyph.mid_y
    for gi, grid in enumerate(grids):
        if not (grid.left <= x <= grid.right and grid.top <= y <= grid.bottom):
            continue
        bi = bisect_right(band_tops[gi], y) - 1
        if bi < 0 or y > grid.bands[bi].bottom:
            return None
        separators = grid.bands[bi].separators
        ci = bisect_right(separators, x) - 1
        if 0 <= ci < len(separators) - 1:
            return gi, bi, ci
        return None
    return None


def table_from_grid(grid: Grid, gi: int, in_cells: dict[tuple[int, int, int], list[Glyph]], page_number: int) -> Table:
    rows: list[Row] = []
    separators: list[list[float]] = []  # per row, its cells' edges
    spanned = False  # the band above spans into this one
    for bi, band in enumerate(grid.bands):
        cells = [
            Cell(group_into_lines(in_cells.get((gi, bi, ci), [])), inner_right=band.separators[ci + 1])
            for ci in range(len(band.separators) - 1)
        ]
        row = Row(cells, page_number, band.top, band.bottom)
        if spanned:
            row = spanned_row(grid.bands[bi - 1], rows.pop(), band, row)
            separators.pop()
        rows.append(row)
        separators.append(band.separators)
        spanned = band.spans_down() and bi + 1 < len(grid.bands)
    set_inner_right_edges(separators, rows)
    widest = max(grid.bands, key=lambda band: len(band.separators))
    return Table(
        rows=[row for row in rows if not row.is_empty],
        columns=widest.separators,
        top=grid.top,
        bottom=grid.bottom,
    )


def spanned_row(upper_band: Band, upper: Row, band: Band, row: Row) -> Row:
    """Two bands of which some cells of the upper one span both (a header cell drawn two rows high
    beside a spanning "Utfall" over "Totalt | Män/pojkar | Kvinnor/flickor"): one row with the lower
    band's cells, each headed by the text of the upper cell it stands under."""
    cells = []
    for ci, cell in enumerate(row.cells):
        middle = (band.separators[ci] + band.separators[ci + 1]) / 2
        above = bisect_right(upper_band.separators, middle) - 1
        head = upper.cells[above].lines if 0 <= above < len(upper.cells) else []
        cells.append(Cell([*head, *cell.lines], inner_right=cell.inner_right))
    return Row(cells, row.page, upper.top, row.bottom)


def set_inner_right_edges(separators: list[list[float]], rows: list[Row]) -> None:
    """The cell padding is where text starts inside its cell; assume the same padding on the right."""
    offsets = [
        line.x0 - edges[ci]
        for edges, row in zip(separators, rows, strict=True)
        for ci, cell in enumerate(row.cells)
        for line in cell.lines
    ]
    padding = min(max(min(offsets, default=0.0), 0.0), MAX_CELL_PADDING)
    for row in rows:
        for cell in row.cells:
            cell.inner_right -= padding
