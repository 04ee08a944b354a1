"""Read a PDF's pages as glyphs and drawn border edges with pdfminer.six.

pdfminer runs without its layout analysis (``laparams=None``): it gives every glyph and every drawn
line/rectangle with coordinates, and the layout is done from those (lines.py, ruled.py, borderless.py,
document.py). A page read here is a RawPage of plain tuples, so that a part of a document read by another
worker process can travel to the one that lays the document out (pipeline/sources/extract.py).
Coordinates are top-down: y grows down the page (reading order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTContainer, LTCurve, LTLayoutContainer, LTLine, LTRect
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.utils import apply_matrix_rect

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# A drawn segment counts as horizontal/vertical if it deviates less than this from the axis.
AXIS_TOLERANCE = 0.8
# A filled rectangle thinner than this is a border drawn as a rectangle; thicker ones are cell shading.
THIN_RECT = 2.0


class Glyph:
    """One glyph, top-down. Built once per glyph of the document (millions in a corpus), read many
    times: what the layout asks of it is computed here once, not per question."""

    __slots__ = ("text", "x0", "x1", "top", "bottom", "size", "space", "tracking", "is_space", "mid_x", "mid_y")

    def __init__(
        self,
        text: str,
        x0: float,
        x1: float,
        top: float,
        bottom: float,
        size: float,
        space: float,
        tracking: float = 0.0,
    ):
        self.text = text
        self.x0 = x0
        self.x1 = x1
        self.top = top
        self.bottom = bottom
        self.size = size
        self.space = space  # width of a space in this glyph's font and size
        self.tracking = tracking  # the gap its font leaves between the letters of a word (letter spacing)
        self.is_space = text.isspace()
        self.mid_x = (x0 + x1) / 2
        self.mid_y = (top + bottom) / 2

    def __repr__(self) -> str:
        return f"Glyph({self.text!r}, x0={self.x0:.1f}, x1={self.x1:.1f}, top={self.top:.1f})"


@dataclass(slots=True)
class Segment:
    """An axis-parallel border: `pos` is y for a horizontal one, x for a vertical one."""

    pos: float
    lo: float
    hi: float


class GlyphAggregator(PDFPageAggregator):
    """pdfminer's page aggregator that keeps each glyph as a plain tuple (text, font name, x0, x1,
    top, bottom, size; top-down) in `glyphs`, in the order drawn, instead of an LTChar object in the
    layout tree: a corpus has millions of glyphs, and LTChar's constructor keeps much more than a
    layout needs. Drawn lines and rectangles stay in the tree.

    Marked content (BDC/EMC, nested) is kept as `marks`: (index of the next glyph, MCID in force from
    there, -1 for none), one entry per change, so a tagged PDF's structure tree can name its glyphs
    (tagged.py). A page without marked content costs nothing per glyph. Inside a form XObject an MCID
    numbers the form's own marked content, not the page's: its glyphs count as in none."""

    def begin_page(self, page, ctm) -> None:
        super().begin_page(page, ctm)
        self.page_top = self.cur_item.y1
        self.glyphs: list[tuple[str, str, float, float, float, float, float]] = []
        self.marks: list[tuple[int, int]] = []
        self.mcid_stack: list[int] = []
        self.figures = 0

    def begin_figure(self, name, bbox, matrix) -> None:
        super().begin_figure(name, bbox, matrix)
        self.figures += 1
        self.push_mcid(-1)

    def end_figure(self, name) -> None:
        self.end_tag()
        self.figures -= 1
        super().end_figure(name)

    def begin_tag(self, tag, props=None) -> None:
        mcid = props.get("MCID") if isinstance(props, dict) and not self.figures else None
        valid = isinstance(mcid, int) and not isinstance(mcid, bool) and mcid >= 0
        self.push_mcid(mcid if valid else (self.mcid_stack[-1] if self.mcid_stack else -1))

    def push_mcid(self, mcid: int) -> None:
        outer = self.mcid_stack[-1] if self.mcid_stack else -1
        self.mcid_stack.append(mcid)
        if mcid != outer:
            self.marks.append((len(self.glyphs), mcid))

    def end_tag(self) -> None:
        if not self.mcid_stack:
            return  # an EMC without its BDC: nothing to close
        inner = self.mcid_stack.pop()
        outer = self.mcid_stack[-1] if self.mcid_stack else -1
        if inner != outer:
            self.marks.append((len(self.glyphs), outer))

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate) -> float:
        if font.is_vertical():
            adv = super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)
            c = self.cur_item._objs.pop()
            self.glyphs.append(
                (c.get_text(), c.fontname, c.x0, c.x1, self.page_top - c.y1, self.page_top - c.y0, c.size)
            )
            return adv
        try:
            text = font.to_unichr(cid)
        except PDFUnicodeNotDefined:
            text = self.handle_undefined_char(font, cid)
        adv = font.char_width(cid) * fontsize * scaling
        bottom = font.get_descent() * fontsize + rise
        a, b, c, d, e, f = matrix
        if b == 0 and c == 0:  # unrotated text: the box as apply_matrix_rect gives it, in fewer steps
            x0, x1, y0, y1 = e, a * adv + e, d * bottom + f, d * (bottom + fontsize) + f
        else:
            x0, y0, x1, y1 = apply_matrix_rect(matrix, (0, bottom, adv, bottom + fontsize))
        if x1 < x0:
            x0, x1 = x1, x0
        if y1 < y0:
            y0, y1 = y1, y0
        # size: the height, as LTChar's
        self.glyphs.append((text, font.fontname, x0, x1, self.page_top - y1, self.page_top - y0, y1 - y0))
        return adv


# One page as read from the PDF, before any layout: (number, width, height, glyphs, horizontals,
# verticals, fills, marks); a glyph is (text, font name, x0, x1, top, bottom, size), a border (pos, lo,
# hi), a fill (x0, x1, top, bottom: a shaded cell, row or header box), all top-down; a mark (glyph
# index, MCID from there on; -1: none), empty on an untagged page. Plain tuples: a part of a document
# read by another worker process travels as these (pipeline/sources/extract.py).
RawPage = tuple[int, float, float, list[tuple], list[tuple], list[tuple], list[tuple], list[tuple]]


def read_raw_pages(
    path: str, first: int = 1, last: int | None = None, on_page: Callable[[int], None] | None = None
) -> Iterator[RawPage]:
    """Pages `first`..`last` (1-based; all by default) as RawPages. `on_page(n)` after page n."""
    resources = PDFResourceManager(caching=True)
    # laparams=None: raw glyphs and graphics, no pdfminer layout analysis (we do our own, faster)
    device = GlyphAggregator(resources, laparams=None)
    interpreter = PDFPageInterpreter(resources, device)
    wanted = range(first - 1, last) if last is not None else range(first - 1, 1 << 31)
    with open(path, "rb") as handle:
        pages = PDFPage.get_pages(handle, pagenos=None if first == 1 and last is None else wanted)
        for number, pdf_page in enumerate(pages, start=first):
            interpreter.process_page(pdf_page)
            yield raw_page(number, device.get_result(), device.glyphs, device.marks)
            if on_page is not None:
                on_page(number)
            if number == last:
                return


def raw_page(number: int, layout: LTLayoutContainer, chars: list[tuple], marks: list[tuple] | None = None) -> RawPage:
    """The glyphs (GlyphAggregator), border edges, shaded boxes and marked content of one page, top-down."""
    page_top = layout.y1
    horizontals: list[Segment] = []
    verticals: list[Segment] = []
    fills: list[tuple[float, float, float, float]] = []

    def visit(container: LTContainer) -> None:
        for obj in container:
            if isinstance(obj, LTCurve):
                add_edges(obj, page_top, horizontals, verticals)
                if isinstance(obj, LTRect) and obj.fill and is_box(obj, layout):
                    fills.append((obj.x0, obj.x1, page_top - obj.y1, page_top - obj.y0))
            elif isinstance(obj, LTContainer):
                visit(obj)  # figures (form XObjects) hold graphics too

    visit(layout)
    return (
        number,
        layout.width,
        layout.height,
        chars,
        [(s.pos, s.lo, s.hi) for s in horizontals],
        [(s.pos, s.lo, s.hi) for s in verticals],
        fills,
        marks or [],
    )


def is_box(rect: LTRect, layout: LTLayoutContainer) -> bool:
    """A filled rectangle that can be a cell, a row or a header box: not a thin border, not the page."""
    width, height = rect.x1 - rect.x0, rect.y1 - rect.y0
    return width > THIN_RECT and height > THIN_RECT and height < layout.height / 2


def add_edges(obj: LTCurve, page_top: float, horizontals: list[Segment], verticals: list[Segment]) -> None:
    """Border edges drawn by a line, a rectangle or a path, in top-down coordinates."""
    width, height = obj.x1 - obj.x0, obj.y1 - obj.y0
    if isinstance(obj, LTRect) and not obj.stroke:
        # A filled rectangle is a border only if it is thin; a wide one is cell shading.
        if height <= THIN_RECT and width > THIN_RECT:
            horizontals.append(Segment(page_top - (obj.y0 + obj.y1) / 2, obj.x0, obj.x1))
        elif width <= THIN_RECT and height > THIN_RECT:
            verticals.append(Segment((obj.x0 + obj.x1) / 2, page_top - obj.y1, page_top - obj.y0))
        return
    if isinstance(obj, LTLine) or (not obj.stroke and obj.fill):
        # a filled thin path behaves like a line along its long side
        if height <= THIN_RECT and width > THIN_RECT:
            horizontals.append(Segment(page_top - (obj.y0 + obj.y1) / 2, obj.x0, obj.x1))
        elif width <= THIN_RECT and height > THIN_RECT:
            verticals.append(Segment((obj.x0 + obj.x1) / 2, page_top - obj.y1, page_top - obj.y0))
        return
    if not obj.stroke:
        return
    points = list(obj.pts)
    if isinstance(obj, LTRect) or (len(points) > 2 and points[0] != points[-1]):
        points.append(points[0])  # rectangles (and closed paths drawn open) include the closing side
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        if abs(ya - yb) <= AXIS_TOLERANCE and abs(xa - xb) > AXIS_TOLERANCE:
            horizontals.append(Segment(page_top - (ya + yb) / 2, min(xa, xb), max(xa, xb)))
        elif abs(xa - xb) <= AXIS_TOLERANCE and abs(ya - yb) > AXIS_TOLERANCE:
            verticals.append(Segment((xa + xb) / 2, page_top - max(ya, yb), page_top - min(ya, yb)))
