"""What a page draws around a table without vertical borders: rules and shaded boxes as evidence.

A table that draws no vertical borders still often draws something: a rule under the header or between
rows, a shaded header box, zebra-striped rows, a shaded comment row. Where it does, the drawing says
what the text can only suggest: a drawn horizontal edge between two lines ends a row, and shaded cells
or rule segments that meet end to end are the edges of the columns.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from pipeline.pdf.glyphs import Segment

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Two drawn pieces whose ends are this close meet: the point between them is a cell edge.
MEET_TOLERANCE = 1.0
# A drawn edge counts for a text position it passes within this distance of.
EDGE_REACH = 1.0
# A row's rule may cut this far (times the text size) into the glyph boxes of the line above: below the
# baseline of text without descenders, in a box that reaches down to the font's descent.
DESCENT_ZONE_EM = 0.2
# A rule under a row starts at the cell's edge, at least this far left of its text (an underline
# starts at the text itself).
CELL_PADDING_MIN = 1.0


@dataclass(frozen=True, slots=True)
class Box:
    """A shaded rectangle (a cell, a row, a header box), top-down."""

    x0: float
    x1: float
    top: float
    bottom: float


class Drawing:
    """The horizontal edges a page draws (rules, and the tops and bottoms of shaded boxes), and its
    shaded boxes."""

    def __init__(self, horizontals: list[Segment], boxes: list[Box]) -> None:
        self.rules = sorted(horizontals, key=lambda s: s.pos)
        self.boxes = boxes
        edges = [(s.pos, s.lo, s.hi) for s in horizontals]
        for box in boxes:
            edges.append((box.top, box.x0, box.x1))
            edges.append((box.bottom, box.x0, box.x1))
        edges.sort()
        self.edges = edges
        self.edge_ys = [edge[0] for edge in edges]

    def __bool__(self) -> bool:
        return bool(self.edges)

    def edges_within(self, upper: float, lower: float) -> list[tuple[float, float, float]]:
        """Drawn horizontal edges strictly between y = upper and y = lower."""
        start = bisect_right(self.edge_ys, upper)
        end = start
        while end < len(self.edges) and self.edges[end][0] < lower:
            end += 1
        return self.edges[start:end]

    def separates(self, upper: float, lower: float, x: float, size: float = 0.0) -> bool:
        """Is a drawn horizontal edge between y = upper and y = lower that passes x? With the text's
        `size`, an edge through the descender zone of the line above counts too, where it starts left
        of x by the cell padding (an underline starts at the text)."""
        if not self.edges:
            return False
        if any(lo - EDGE_REACH <= x <= hi + EDGE_REACH for _, lo, hi in self.edges_within(upper, lower)):
            return True
        # producers that size a cell to the text's baseline, not its descent (Typst), draw the rule
        # below a row with little padding through the glyph boxes of the row's last line
        zone = self.edges_within(upper - DESCENT_ZONE_EM * size, min(upper, lower))
        return any(lo <= x - CELL_PADDING_MIN and x <= hi + EDGE_REACH for _, lo, hi in zone)

    def cell_edges(self, top: float, bottom: float, left: float, right: float, reach: float) -> list[float]:
        """Where the cells of a header band [top, bottom] meet, from [left, right]: the shaded boxes
        that hold the band, else the rule segments drawn right below or above it (within `reach`),
        one per cell."""
        # every box beside the band's text: a two-row header shades its spanning cell, the cells
        # under it and the cells two rows high each on their own
        boxes = [
            box for box in self.boxes if box.top < bottom and box.bottom > top and box.x1 > left and box.x0 < right
        ]
        edges = meeting_points([(box.x0, box.x1) for box in boxes])
        if edges:
            return edges
        for y in (self.nearest_rule(bottom, below=True), self.nearest_rule(top, below=False)):
            if y is None or not (top - reach <= y <= bottom + reach):
                continue
            pieces = [
                (s.lo, s.hi) for s in self.rules if abs(s.pos - y) <= MEET_TOLERANCE and s.hi > left and s.lo < right
            ]
            edges = meeting_points(pieces)
            if edges:
                return edges
        return []

    def shaded_band(self, top: float, bottom: float) -> bool:
        return any(box.top < bottom and box.bottom > top for box in self.boxes)

    def box_edge_at(self, x: float, y: float) -> bool:
        """Do two shaded boxes beside each other at height y meet at x? (A spanning header cell's
        box has no edge where the cells under it meet.)"""
        here = [box for box in self.boxes if box.top <= y <= box.bottom]
        return any(abs(box.x1 - x) <= MEET_TOLERANCE for box in here) and any(
            abs(box.x0 - x) <= MEET_TOLERANCE for box in here
        )

    def row_cell_edges(self, top: float, bottom: float, left: float, right: float) -> list[float]:
        """Where the cells of the rows between `top` and `bottom` meet, where they are shaded cell by
        cell (zebra stripes drawn per cell): the shaded row that shows the most edges."""
        rows: dict[tuple[float, float], list[tuple[float, float]]] = {}
        for box in self.boxes:
            if top <= box.top and box.bottom <= bottom and box.x1 > left and box.x0 < right:
                rows.setdefault((round(box.top, 1), round(box.bottom, 1)), []).append((box.x0, box.x1))
        return max((meeting_points(pieces) for pieces in rows.values()), key=len, default=[])

    def nearest_rule(self, y: float, below: bool) -> float | None:
        ys = [s.pos for s in self.rules if (s.pos >= y if below else s.pos <= y)]
        if not ys:
            return None
        return min(ys) if below else max(ys)


def meeting_points(pieces: list[tuple[float, float]]) -> list[float]:
    """x where one drawn piece ends and another begins (within MEET_TOLERANCE), left to right."""
    starts = sorted({x0 for x0, _ in pieces})
    points: list[float] = []
    for end in sorted({x1 for _, x1 in pieces}):
        at = bisect_right(starts, end + MEET_TOLERANCE) - 1
        if at >= 0 and abs(starts[at] - end) <= MEET_TOLERANCE:
            point = (end + starts[at]) / 2
            if not points or point - points[-1] > MEET_TOLERANCE:
                points.append(point)
    return points
