"""Lay out the text of a PDF as lines, with table rows rebuilt as TAB-separated cells.

Takes: the path of a PDF file (with a text layer).
Gives: ``list[TextLine]`` in reading order, page by page (``page`` 1-based, ``line_no`` 1-based within
the page), in the same shape as the report .txt files, so one parser reads both:

* body text: one line per paragraph, as in the .txt (lines the PDF wrapped are joined again; a
  heading, "Uppfylls helt" or the cover title is a paragraph, so a line, of its own); a table of
  contents line keeps its page number after a TAB;
* tables: one line per table ROW, cells joined by TAB, text wrapped inside a cell joined by single
  spaces (or by nothing when a word was broken inside the cell: "Periode" / "ns utfall" ->
  "Periodens utfall"); empty cells are kept so that columns line up with the header; a cell that
  spans the whole table (a "Kommentar ..." / "Analys ..." row) gives a one-cell line;
* a table split across pages is joined again: the header row repeated on the next page is dropped and
  a row broken over the page break becomes one row, its fragments put back into their cells;
* an empty line follows each table, as in the .txt, so that text right under a table is not read as
  more of its last row;
* running page headers (the report title) and footers ("Sida N (M)") are left out.

How: pdfminer.six without its layout analysis (``laparams=None``) gives every glyph and every drawn
line/rectangle with coordinates. Tables with borders are rebuilt from the drawn edges (rows between
horizontal borders, cells between the vertical borders crossing each row). Tables without borders are
found from a header line starting "Indikator"/"Aktivitet" and rebuilt from the header cells' x positions.
Nothing relies on the order in which the PDF emits its text.

Broken files raise pdfminer's own exceptions (PDFSyntaxError, PDFPasswordIncorrect, ...); a PDF without
a text layer gives an empty list.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from statistics import median

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LTContainer, LTCurve, LTLayoutContainer, LTLine, LTRect
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.utils import apply_matrix_rect

from pipeline.common.models import TextLine

# ---------------------------------------------------------------------------------------------
# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).
# ---------------------------------------------------------------------------------------------

# A drawn segment counts as horizontal/vertical if it deviates less than this from the axis.
AXIS_TOLERANCE = 0.8
# Border segments closer than this are the same border (LibreOffice draws fills and borders 0.05 pt apart).
EDGE_SNAP = 1.5
# A filled rectangle thinner than this is a border drawn as a rectangle; thicker ones are cell shading.
THIN_RECT = 2.0
# Spaces between two horizontal borders lower than this are double borders, not rows.
MIN_ROW_HEIGHT = 3.0
# Cells narrower than this are gaps between double vertical borders.
MIN_CELL_WIDTH = 3.0
# Largest believable inner cell padding; beyond it the text is centred or right-aligned, not padded.
MAX_CELL_PADDING = 6.0

# Glyphs whose vertical centres differ by less than this (x the smaller font size) share a text line.
SAME_LINE_EM = 0.4
# An uncovered horizontal gap wider than this between glyphs is a word space (for PDFs that do not
# emit space glyphs; LibreOffice does, so its word gaps are covered by a space glyph).
WORD_GAP_EM = 0.12
# An uncovered gap wider than this separates text chunks (table cells without borders, tab stops).
CHUNK_GAP_EM = 0.35
# In body text, chunks further apart than this are joined by a TAB (tab stops, table of contents).
BODY_TAB_GAP_EM = 1.5
# The same glyph drawn twice this close is overprinting ("fake bold"), kept once.
OVERPRINT_DISTANCE = 0.6
# Room a wrapped line must leave before the cell's inner right edge (or the text margin) for a glyph
# to count as fitting: the border's own width eats into the text area.
FULL_LINE_SLACK = 0.5
# Width of a space (in em) in a font whose space glyph the document never shows.
SPACE_WIDTH_EM = 0.25
# Words at least this long that the document prints whole elsewhere decide an ambiguous line break.
MIN_VOCABULARY_WORD = 3
# Two lines of a left-aligned cell start within this of each other.
SAME_INDENT_TOLERANCE = 0.5

# Running headers/footers live in these top/bottom fractions of the page height.
PAGE_MARGIN_FRACTION = 0.1
# ... but at least this deep (a landscape page is low, its footer sits as high as a portrait one's).
PAGE_MARGIN_MIN = 85.0
# A running header/footer repeats at the same height (within this) on several pages.
RUNNING_LINE_Y_TOLERANCE = 3.0
# ... on at least this many pages, and on at least this share of the pages.
RUNNING_LINE_MIN_PAGES = 2
RUNNING_LINE_MIN_SHARE = 0.5
PAGE_NUMBER_LINE = re.compile(
    r"^(?:(?:sida|sid\.?|page|s\.)\s*)?\d+(?:\s*(?:\(\s*\d+\s*\)|(?:av|of|/)\s*\d+))?$", re.IGNORECASE
)

# Column separators of two table parts on consecutive pages differ by less than this if they are the
# same table.
COLUMN_MATCH_TOLERANCE = 2.0
# Tables without borders: a chunk starts in a column if it starts at most this far left of it.
COLUMN_ALIGN_TOLERANCE = 2.0
# Tables without borders: assumed white space between the text of two neighbouring columns.
BORDERLESS_COLUMN_GAP = 3.0
# Tables without borders: a gutter between columns may be crossed by at most this share of the table's lines
# (a stray long cell); where every candidate is crossed more, the header cell's start decides.
GUTTER_MAX_SHARE = 0.05
# Tables without borders: text ending or starting this close to a header cell's start touches it, and
# does not cross it.
TOUCH_TOLERANCE = 0.5
# Tables without borders: a line more than this far below the previous one is not part of the table.
BORDERLESS_TABLE_END_GAP_EM = 1.6
# Tables without borders: a line of text alone this many times further below the table's last row than
# any row from the one above it is not part of the table (a heading after it in the same size).
ROW_GAP_FACTOR = 1.6
# Tables without borders: a wrapped cell continues on a line at most this far below the previous one
# (line spacing leaves ~0.15 em between lines; cell padding puts more between rows).
BORDERLESS_WRAP_GAP_EM = 0.35
# Lines of a paragraph are at most this far apart (paragraph spacing puts more between paragraphs).
PARAGRAPH_LINE_GAP_EM = 0.35
# Tables without borders: a cell whose last line ends this close to its column edge may go on below.
NEAR_FULL_EM = 1.0
# Tables without borders: text of another size than the table's is not part of it.
FONT_SIZE_TOLERANCE = 0.6

TABLE_HEADER_WORDS = ("Indikator", "Aktivitet")
# Whole words of the report tables' headers and standard cells. A header cell prints each of them
# once, often alone on a wrapped line, so the document itself may never show them whole.
TABLE_WORDS = frozenset(
    "indikator periodens utfall män/pojkar kvinnor/flickor vb prognos helår årsmål kf:s period "
    "periodicitet aktivitet startdatum slutdatum avvikelse tertial halvår tas fram av nämnd nämnden "
    "styrelse styrelsen fastställs kommentar analys".split()
)
# Words that start a header cell (capitalised), also where two header cells nearly touch; prefixes, as a
# narrow cell breaks them ("Periode" / "ns", "Progn" / "os").
HEADER_CELL_START = ("Period", "Utfall", "Progn", "Årsm", "Arsm", "KF", "Startdatum", "Slutdatum", "Avvikelse")
WORD_PUNCTUATION = ".,;:!?()[]\"'”“’«»"
FULL_WIDTH_ROW = re.compile(r"^(?:Kommentar|Analys)\b")
# Glyphs that mark an indicator/activity and precede the first cell's text.
MARKER_GLYPHS = "♀▶✓●◆■🟢"


# ---------------------------------------------------------------------------------------------
# Geometry primitives. Coordinates are top-down: y grows down the page (reading order).
# ---------------------------------------------------------------------------------------------


class Glyph:
    """One glyph, top-down. Built once per glyph of the document (millions in a corpus), read many
    times: what the layout asks of it is computed here once, not per question."""

    __slots__ = ("text", "x0", "x1", "top", "bottom", "size", "space", "is_space", "mid_x", "mid_y")

    def __init__(self, text: str, x0: float, x1: float, top: float, bottom: float, size: float, space: float):
        self.text = text
        self.x0 = x0
        self.x1 = x1
        self.top = top
        self.bottom = bottom
        self.size = size
        self.space = space  # width of a space in this glyph's font and size
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


class Line:
    """Glyphs on one text line, left to right."""

    __slots__ = ("glyphs", "top", "bottom", "x0", "x1", "size", "_text", "_chunks", "_words")

    def __init__(self, glyphs: list[Glyph]) -> None:
        self.glyphs = glyphs
        inked = [g for g in glyphs if not g.is_space] or glyphs
        self.top = min([g.top for g in glyphs])
        self.bottom = max([g.bottom for g in glyphs])
        self.x0 = inked[0].x0
        self.x1 = inked[-1].x1
        self.size = median([g.size for g in inked])
        self._text: str | None = None
        self._chunks: list[Line] | None = None
        self._words: list[list[Glyph]] | None = None

    @property
    def text(self) -> str:
        """The line's text, spaces collapsed, not stripped at the end (a trailing space means a wrap)."""
        if self._text is None:
            self._text = glyphs_to_text(self.glyphs)
        return self._text

    @property
    def ends_with_space(self) -> bool:
        """LibreOffice keeps the space at which it wrapped a line: the cell's text goes on below."""
        return self.glyphs[-1].is_space

    @property
    def words(self) -> list[list[Glyph]]:
        """The words of the line's chunks, left to right (see split_words)."""
        if self._words is None:
            self._words = [word for chunk in self.chunks for word in split_words(chunk.glyphs)]
        return self._words

    @property
    def chunks(self) -> list[Line]:
        """The line cut at wide uncovered gaps: the pieces of a line that cross cells or tab stops."""
        if self._chunks is None:
            self._chunks = [Line(part) for part in split_at_gaps(self.glyphs, CHUNK_GAP_EM)]
        return self._chunks


def glyphs_to_text(glyphs: list[Glyph]) -> str:
    parts: list[str] = []
    previous: Glyph | None = None
    for glyph in glyphs:
        if (
            previous is not None
            and not glyph.is_space
            and not previous.is_space
            and glyph.x0 - previous.x1 > WORD_GAP_EM * (glyph.size if glyph.size < previous.size else previous.size)
        ):
            parts.append(" ")
        parts.append(glyph.text)
        previous = glyph
    return MULTIPLE_SPACES.sub(" ", "".join(parts)).lstrip(" ")


MULTIPLE_SPACES = re.compile(" {2,}")


def split_at_gaps(glyphs: list[Glyph], gap_em: float) -> list[list[Glyph]]:
    parts: list[list[Glyph]] = [[glyphs[0]]]
    for previous, glyph in zip(glyphs, glyphs[1:], strict=False):
        if glyph.x0 - previous.x1 > gap_em * min(glyph.size, previous.size):
            parts.append([])
        parts[-1].append(glyph)
    # Space glyphs alone (a trailing space pushed past a gap) carry no text: give them to the left.
    merged: list[list[Glyph]] = []
    for part in parts:
        if merged and all(g.is_space for g in part):
            merged[-1].extend(part)
        else:
            merged.append(part)
    return merged


def group_into_lines(glyphs: Iterable[Glyph]) -> list[Line]:
    """Glyphs -> text lines, top to bottom. One sort and one sweep: O(n log n)."""
    ordered = sorted(glyphs, key=attrgetter("mid_y"))
    rows: list[list[Glyph]] = []
    anchor_y = anchor_size = 0.0
    for glyph in ordered:
        if rows and abs(glyph.mid_y - anchor_y) <= SAME_LINE_EM * min(glyph.size, anchor_size):
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
            anchor_y, anchor_size = glyph.mid_y, glyph.size
    lines = []
    for row in rows:
        row.sort(key=attrgetter("x0"))
        kept = drop_overprinted(row)
        if any(not g.is_space for g in kept):
            lines.append(Line(kept))
    lines.sort(key=lambda line: (line.top, line.x0))
    return lines


def drop_overprinted(glyphs: list[Glyph]) -> list[Glyph]:
    kept: list[Glyph] = []
    for glyph in glyphs:
        if kept and glyph.text == kept[-1].text and abs(glyph.x0 - kept[-1].x0) < OVERPRINT_DISTANCE:
            continue
        kept.append(glyph)
    return kept


# ---------------------------------------------------------------------------------------------
# Cells, rows, tables
# ---------------------------------------------------------------------------------------------


@dataclass
class Cell:
    lines: list[Line] = field(default_factory=list)
    # x where a line of this cell is full (cell edge less padding): used to spot words broken inside it
    inner_right: float = 0.0

    def text(self, vocabulary: Vocabulary = frozenset()) -> str:
        text = ""
        previous: Line | None = None
        for line in self.lines:
            piece = line.text.strip()
            if previous is None:
                text = piece
            else:
                joint = separator_between(previous, line, self.inner_right, vocabulary)
                text = text.rstrip() + joint + piece
            previous = line
        return re.sub(r"\s{2,}", " ", text).strip()

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def is_unfinished(self) -> bool:
        """The cell's last line was wrapped, so its text goes on (on the next page)."""
        return bool(self.lines) and line_was_wrapped(self.lines[-1])


def separator_between(upper: Line, lower: Line, inner_right: float, vocabulary: Vocabulary) -> str:
    """What joins two wrapped lines of a cell: a space, or nothing inside a broken word.

    LibreOffice keeps the space it wrapped at as a trailing space glyph, or drops it when even the
    space does not fit; it breaks inside a word only when the word is wider than the cell, and then the
    fragment stands alone on its line, filling it. A lone word that fills its line with no trailing
    space is either a broken word or a whole word whose space did not fit: geometry cannot tell, so
    the words the document prints whole elsewhere, and the standard table words, decide
    ("Prognos" / "helår" vs "Progno" / "s helår").
    """
    if upper.ends_with_space:
        return " "
    upper_text = upper.text.strip()
    if ends_in_break_after(upper_text):
        # line broken after a hyphen or slash ("LSS-" / "boende", "kvinnor/" / "flickor"); where the
        # producer draws no wrap spaces, "vård-" / "och" may as well be "vård- och": the document's
        # own words decide
        if getattr(vocabulary, "keeps_wrap_spaces", True) or not lower.text.split():
            return ""
        tail = lower.text.split()[0]
        joined = vocabulary_key(upper_text.split()[-1] + tail) in vocabulary
        return "" if joined or not is_vocabulary_word(tail, vocabulary) else " "
    if " " in upper_text:
        return " "  # several words: the line was wrapped between words
    tail = lower.text.split()[0] if lower.text.split() else ""
    if vocabulary_key(upper_text + tail) in vocabulary and not is_vocabulary_word(tail, vocabulary):
        return ""  # "Tertia" / "l 2 2023": a word broken in a narrow cell, whatever its alignment
    if abs(upper.x0 - lower.x0) > SAME_INDENT_TOLERANCE:
        return " "  # right-aligned or centred text: its lines end at the edge whether full or not
    room = inner_right - FULL_LINE_SLACK - upper.x1
    next_glyph = lower.glyphs[0]
    if next_glyph.x1 - next_glyph.x0 <= room:
        return " "  # the next glyph would have fitted: a line break inside the cell, not a wrap
    if upper.glyphs[-1].space <= room and getattr(vocabulary, "keeps_wrap_spaces", True):
        return ""  # a space would have fitted and been kept: the word was broken at the cell edge
    return "" if is_broken_word(upper_text, lower.text.split()[0], vocabulary) else " "


def is_broken_word(head: str, tail: str, vocabulary: Vocabulary) -> bool:
    """Is `tail` (first word on the next line) the rest of `head`, or a word of its own?"""
    if vocabulary_key(head + tail) in vocabulary:
        return True
    if is_vocabulary_word(head, vocabulary) and tail[:1].isdigit():
        return False  # a whole word, then a number: "Tertial" / "2 2021"
    # A short tail ("s", "en", "ns") is too often both a word and a fragment: trust the geometry.
    return not is_vocabulary_word(tail, vocabulary)


def is_vocabulary_word(word: str, vocabulary: Vocabulary) -> bool:
    key = vocabulary_key(word)
    return len(key) >= MIN_VOCABULARY_WORD and key in vocabulary


def ends_in_break_after(text: str) -> bool:
    """Ends in a hyphen or slash stuck to a word: a place where lines break without a space."""
    return len(text) >= 2 and text[-1] in "-/" and not text[-2].isspace()


def line_was_wrapped(line: Line) -> bool:
    text = line.text
    return line.ends_with_space or (len(text) >= 2 and text[-1] == "-" and text[-2].isalpha())


@dataclass
class Row:
    cells: list[Cell]
    page: int
    top: float
    bottom: float

    def text(self, vocabulary: Vocabulary = frozenset()) -> str:
        return "\t".join(cell.text(vocabulary) for cell in self.cells)

    @property
    def is_empty(self) -> bool:
        return all(cell.is_empty for cell in self.cells)

    @property
    def is_header(self) -> bool:
        return bool(self.cells) and starts_table_header(self.cells[0].text())


@dataclass
class Table:
    rows: list[Row]
    # x positions that identify the columns (separators or column starts): equal for two parts of
    # one table on consecutive pages
    columns: list[float]
    top: float
    bottom: float


@dataclass
class BodyLine:
    """A line of running text, and the lines of the same paragraph wrapped below it."""

    line: Line
    page: int
    wrapped: list[Line] = field(default_factory=list)

    @property
    def top(self) -> float:
        return self.line.top

    @property
    def last(self) -> Line:
        return self.wrapped[-1] if self.wrapped else self.line


Item = BodyLine | Table
# Words the document prints whole somewhere (lower case, no punctuation around them).
Vocabulary = frozenset[str] | set[str]


def starts_table_header(text: str) -> bool:
    return text.lstrip(MARKER_GLYPHS + " ").startswith(TABLE_HEADER_WORDS)


# ---------------------------------------------------------------------------------------------
# Reading the PDF
# ---------------------------------------------------------------------------------------------


@dataclass
class Page:
    number: int
    width: float
    height: float
    glyphs: list[Glyph]
    horizontals: list[Segment]
    verticals: list[Segment]
    tables: list[Table] = field(default_factory=list)
    body: list[Line] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def in_margin(self, line: Line) -> bool:
        margin = max(PAGE_MARGIN_FRACTION * self.height, PAGE_MARGIN_MIN)
        return line.bottom < margin or line.top > self.height - margin


class GlyphAggregator(PDFPageAggregator):
    """pdfminer's page aggregator that keeps each glyph as a plain tuple (text, font name, x0, x1,
    top, bottom, size; top-down) in `glyphs`, in the order drawn, instead of an LTChar object in the
    layout tree: a corpus has millions of glyphs, and LTChar's constructor keeps much more than a
    layout needs. Drawn lines and rectangles stay in the tree."""

    def begin_page(self, page, ctm) -> None:
        super().begin_page(page, ctm)
        self.page_top = self.cur_item.y1
        self.glyphs: list[tuple[str, str, float, float, float, float, float]] = []

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
# verticals); a glyph is (text, font name, x0, x1, top, bottom, size), a border (pos, lo, hi), all
# top-down. Plain tuples: a part of a document read by another worker process travels as these
# (pipeline/sources/extract.py).
RawPage = tuple[int, float, float, list[tuple], list[tuple], list[tuple]]


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
            yield raw_page(number, device.get_result(), device.glyphs)
            if on_page is not None:
                on_page(number)
            if number == last:
                return


def raw_page(number: int, layout: LTLayoutContainer, chars: list[tuple]) -> RawPage:
    """The glyphs (GlyphAggregator) and border edges of one page, top-down."""
    page_top = layout.y1
    horizontals: list[Segment] = []
    verticals: list[Segment] = []

    def visit(container: LTContainer) -> None:
        for obj in container:
            if isinstance(obj, LTCurve):
                add_edges(obj, page_top, horizontals, verticals)
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
    )


def read_page(raw: RawPage, space_ems: dict[str, float]) -> Page:
    """A RawPage as Glyphs and Segments. `space_ems` (font -> width of its space, in em) grows as
    spaces are seen, page by page; it tells how much room a wrapped line's dropped space needed."""
    number, width, height, chars, horizontals, verticals = raw
    for text, font, x0, x1, _, _, size in chars:
        if text == " " and size and font not in space_ems:
            space_ems[font] = (x1 - x0) / size
    glyphs = []
    for text, font, x0, x1, top, bottom, size in chars:
        if text:
            size = size or 1.0
            glyphs.append(Glyph(text, x0, x1, top, bottom, size, space_ems.get(font, SPACE_WIDTH_EM) * size))
    return Page(number, width, height, glyphs, [Segment(*s) for s in horizontals], [Segment(*s) for s in verticals])


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


# ---------------------------------------------------------------------------------------------
# Tables with borders
# ---------------------------------------------------------------------------------------------


@dataclass
class Band:
    """The space between two horizontal borders of a grid: one table row."""

    top: float
    bottom: float
    separators: list[float]  # x of the vertical borders crossing the whole band, left to right


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
            bands.append(Band(top, bottom, separators))
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
    rows = []
    for bi, band in enumerate(grid.bands):
        cells = [
            Cell(group_into_lines(in_cells.get((gi, bi, ci), [])), inner_right=band.separators[ci + 1])
            for ci in range(len(band.separators) - 1)
        ]
        rows.append(Row(cells, page_number, band.top, band.bottom))
    set_inner_right_edges(grid, rows)
    widest = max(grid.bands, key=lambda band: len(band.separators))
    return Table(
        rows=[row for row in rows if not row.is_empty],
        columns=widest.separators,
        top=grid.top,
        bottom=grid.bottom,
    )


def set_inner_right_edges(grid: Grid, rows: list[Row]) -> None:
    """The cell padding is where text starts inside its cell; assume the same padding on the right."""
    offsets = [
        line.x0 - band.separators[ci]
        for band, row in zip(grid.bands, rows, strict=True)
        for ci, cell in enumerate(row.cells)
        for line in cell.lines
    ]
    padding = min(max(min(offsets, default=0.0), 0.0), MAX_CELL_PADDING)
    for row in rows:
        for cell in row.cells:
            cell.inner_right -= padding


# ---------------------------------------------------------------------------------------------
# Tables without borders
# ---------------------------------------------------------------------------------------------


def split_words(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """Glyphs -> words: a word ends at a space glyph (kept with it) or at an uncovered word gap, so
    producers that emit spaces and producers that only position words split the same way."""
    words: list[list[Glyph]] = []
    previous: Glyph | None = None
    for glyph in glyphs:
        starts_word = previous is None or (
            not glyph.is_space
            and (previous.is_space or glyph.x0 - previous.x1 > WORD_GAP_EM * min(glyph.size, previous.size))
        )
        if starts_word:
            words.append([glyph])
        else:
            words[-1].append(glyph)
        previous = glyph
    return [word for word in words if any(not g.is_space for g in word)] or words


def ink_extent(glyphs: list[Glyph]) -> tuple[float, float]:
    """x0 and x1 of the glyphs, spaces at either end left out."""
    first = next((g for g in glyphs if not g.is_space), glyphs[0])
    last = next((g for g in reversed(glyphs) if not g.is_space), glyphs[-1])
    return first.x0, last.x1


def header_cell_starts(line: Line) -> list[float]:
    """Where the header's cells start: at each piece of the line, and at each header keyword inside
    a piece, since neighbouring header cells may nearly touch ("Perioden Perioden Årsmål")."""
    starts: list[float] = []
    for chunk in line.chunks:
        for index, word in enumerate(split_words(chunk.glyphs)):
            text = "".join(g.text for g in word).strip()
            if index == 0 or (text[:1].isupper() and text.startswith(HEADER_CELL_START)):
                starts.append(ink_extent(word)[0])
            # cells with no gap at all between them: "PeriodenPrognos"
            for at in range(1, min(len(word), len(text))):
                if text[at - 1].islower() and text[at].isupper() and text[at:].startswith(HEADER_CELL_START):
                    starts.append(word[at].x0)
    return starts


def quiet_runs(intervals: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[int, float, float]]:
    """[lo, hi] cut where the number of `intervals` covering x changes: (how many cover it, left
    end, right end) for each piece, left to right. One sort and one sweep."""
    events: list[tuple[float, int]] = []
    covering = 0
    for a, b in intervals:
        if b <= lo or a >= hi:
            continue
        if a <= lo:
            covering += 1
        else:
            events.append((a, 1))
        if b < hi:
            events.append((b, -1))
    events.sort()
    runs: list[tuple[int, float, float]] = []
    x = lo
    for position, change in [*events, (hi, 0)]:
        if position > x:
            runs.append((covering, x, position))
            x = position
        covering += change
    return runs


def gutter_near(intervals: list[tuple[float, float]], lo: float, hi: float, start: float) -> tuple[int, float, float]:
    """The gutter of a column whose header starts at `start`: that point if no word crosses it more
    than elsewhere; else of the least covered x-ranges in [lo, hi], the last that ends by `start`
    (the column's own text lies right of it, however narrow the gap), else the first after it."""
    runs = quiet_runs(intervals, lo, hi)
    fewest = min(count for count, _, _ in runs)
    # The header's start itself, if no more words cross it than any gutter: a left-aligned header
    # starts its column, and without padding a right-aligned value ends exactly there (a gutter of
    # no width), while the space before a right-aligned "%" may be empty in every row.
    at_start = sum(1 for a, b in intervals if a < start - TOUCH_TOLERANCE and b > start + TOUCH_TOLERANCE)
    if at_start <= fewest:
        return at_start, start, start
    quiet = [run for run in runs if run[0] == fewest]
    before = [run for run in quiet if run[2] <= start + COLUMN_ALIGN_TOLERANCE]
    return before[-1] if before else quiet[0]


@dataclass
class BorderlessTable:
    """A table rebuilt from its header and the gutters its lines leave empty.

    `starts` are where the header cells start (they identify the table across pages); `bounds`
    the x between neighbouring columns, each in the quietest gutter of the table's lines near the
    header cell's start, however narrow: right-aligned values may end a point before the next
    header starts, and centred or right-aligned header cells start right of their column's edge.
    Words (not pieces of a line) go to the column they sit in, so cells that nearly touch split.
    """

    starts: list[float]
    bounds: list[float]
    right: float
    size: float
    page: int
    # where the longest name line of the table ends: names wrap before it
    name_right: float = 0.0
    # per column, where its text ends furthest right in the table (0.0: no text seen)
    text_right: list[float] = field(default_factory=list)
    # the largest space seen between two rows (cell padding, rules): a larger one ends the table
    row_gap: float = 0.0
    rows: list[Row] = field(default_factory=list)
    last_bottom: float = 0.0

    @classmethod
    def from_header(cls, line: Line, page: int, below: list[Line]) -> BorderlessTable:
        starts = header_cell_starts(line)
        region = table_region(line, below)
        right = max([line.x1, *(other.x1 for other in region)])
        bounds = column_bounds(starts, right, line, region)
        table = cls(starts, bounds, right=line.x1, size=line.size, page=page)
        table.text_right = column_text_right(table, [line, *region])
        table.name_right = table.text_right[0] or table.column_right(0)
        table.add_row(line)
        return table

    def carried_to(self, page: int) -> BorderlessTable:
        """The same columns, open for the table's rows on the next page."""
        return BorderlessTable(
            self.starts, self.bounds, self.right, self.size, page, self.name_right, text_right=self.text_right
        )

    def to_table(self) -> Table:
        return Table(self.rows, self.starts, self.rows[0].top, self.last_bottom)

    def column_of(self, word: list[Glyph]) -> int:
        x0, x1 = ink_extent(word)
        return bisect_right(self.bounds, (x0 + x1) / 2)

    def crosses_columns(self, word: list[Glyph]) -> bool:
        x0, x1 = ink_extent(word)
        # a bound strictly inside (x0 + tolerance, x1 - tolerance)
        return bisect_left(self.bounds, x1 - COLUMN_ALIGN_TOLERANCE) > bisect_right(
            self.bounds, x0 + COLUMN_ALIGN_TOLERANCE
        )

    def line_columns(self, line: Line) -> set[int]:
        return {self.column_of(word) for word in line.words}

    def column_right(self, column: int) -> float:
        """Where a line of the column is full: its text's right end in the table (right-aligned text
        ends there), else the gutter."""
        if column < len(self.text_right) and self.text_right[column]:
            return self.text_right[column]
        if column < len(self.bounds):
            return self.bounds[column]
        return self.right

    def fits(self, line: Line) -> bool:
        """Can `line` be a row of this table: same text size, words inside the columns."""
        if abs(line.size - self.size) > FONT_SIZE_TOLERANCE or line.x0 < self.starts[0] - COLUMN_ALIGN_TOLERANCE:
            return False
        if FULL_WIDTH_ROW.match(line.text):
            return True
        return not any(self.crosses_columns(word) for word in line.words)

    def add_row(self, line: Line, full_width: bool = False) -> None:
        if full_width or FULL_WIDTH_ROW.match(line.text):
            cells = [Cell([line], inner_right=self.right)]
        else:
            cells = [Cell(inner_right=self.column_right(c)) for c in range(len(self.bounds) + 1)]
            self.put_chunks(line, cells)
        self.rows.append(Row(cells, self.page, line.top, line.bottom))
        self.right = max(self.right, line.x1)
        self.last_bottom = line.bottom

    def put_chunks(self, line: Line, cells: list[Cell]) -> None:
        by_column: dict[int, list[Glyph]] = defaultdict(list)
        for word in line.words:
            if self.crosses_columns(word):  # two header cells with no gap at all: split at the gutter
                for glyph in word:
                    by_column[bisect_right(self.bounds, glyph.mid_x)].append(glyph)
            else:
                by_column[self.column_of(word)].extend(word)
        for column, glyphs in by_column.items():
            cells[column].lines.append(Line(glyphs))

    def continues_row(self, line: Line) -> bool:
        """Is `line` more wrapped text of the current row? Only if it is close below, and either it
        leaves the name column empty (every row has a name) or each cell it writes to was wrapped."""
        row = self.rows[-1]
        if line.top - self.last_bottom > BORDERLESS_WRAP_GAP_EM * self.size:
            return False
        if len(row.cells) == 1:
            # A comment row: its label may stand on a line of its own and its text run over several
            # paragraphs; a line close below, starting where the comment starts, in one piece, is more
            # of it (a new indicator row has cells in the value columns).
            cell = row.cells[0]
            return self.may_go_on(cell) or (
                len(line.chunks) == 1 and abs(line.x0 - cell.lines[0].x0) <= COLUMN_ALIGN_TOLERANCE
            )
        columns = self.line_columns(line)
        if 0 not in columns:
            return True
        # The name column decides: its text goes on if it was wrapped (a trailing space or hyphen),
        # or if the next line's first word would not have fitted after it. A line that also brings
        # values is the rest of the row only if it goes on in lower case (a new row's name starts
        # with a capital or a marker glyph), or if each value cell it writes to goes on as well:
        # right-aligned values always reach their column's edge, so reaching it proves nothing.
        name = row.cells[0]
        if name.is_empty or not self.name_goes_on(name, line):
            return False
        if columns == {0} or name.is_unfinished():
            return True
        first = line.text.lstrip()[:1]
        if not (first.isupper() or first.isdigit() or first in MARKER_GLYPHS):
            return True
        return all(self.value_goes_on(row.cells[c], line, c) for c in columns - {0})

    def value_goes_on(self, cell: Cell, line: Line, column: int) -> bool:
        """Does `line` go on with this value cell: wrapped, its next word would not have fitted
        between the column's gutters (whatever the alignment), or that word cannot start a cell (a
        new cell starts with a number, a capital or a dash; "av nämnd", "%" and "l 2 2025" go on)?"""
        if cell.is_empty:
            return False
        if cell.is_unfinished():
            return True
        words = [w for w in line.words if self.column_of(w) == column]
        first = next((g.text for g in words[0] if not g.is_space), "")
        if first and not (first.isupper() or first.isdigit() or first in "-–−+"):
            return True
        left = self.bounds[column - 1]
        right = self.bounds[column] if column < len(self.bounds) else max(self.right, *self.text_right[-1:])
        last = cell.lines[-1]
        x0, x1 = ink_extent(words[0])
        return (last.x1 - last.x0) + last.glyphs[-1].space + (x1 - x0) > right - left

    def name_goes_on(self, name: Cell, line: Line) -> bool:
        if name.is_unfinished():
            return True
        last = name.lines[-1]
        word = line.words[0]
        x0, x1 = ink_extent(word)
        # name_right is the furthest a name reached, the column's edge may lie a little further:
        # a word that would have ended within a space of it did not fit either
        space = last.glyphs[-1].space
        return last.x1 + space + (x1 - x0) > self.name_right - space

    def may_go_on(self, cell: Cell) -> bool:
        """Wrapped (trailing space, hyphen) or filled to the column edge (its space did not fit)."""
        last = cell.lines[-1]
        return cell.is_unfinished() or last.x1 > cell.inner_right - NEAR_FULL_EM * self.size

    def accept(self, line: Line) -> bool:
        """Add `line` to the table (as a new row or more of the last row); False if it ends the table."""
        if line.top - self.last_bottom > BORDERLESS_TABLE_END_GAP_EM * self.size:
            return False
        if starts_table_header(line.text) or abs(line.size - self.size) > FONT_SIZE_TOLERANCE:
            return False
        if self.continues_row(line):
            row = self.rows[-1]
            if len(row.cells) == 1:
                row.cells[0].lines.append(line)
            else:
                self.put_chunks(line, row.cells)
            row.bottom = line.bottom
            self.last_bottom = line.bottom
            self.right = max(self.right, line.x1)
            return True
        gap = line.top - self.last_bottom
        if len(line.chunks) == 1 and self.row_gap and gap > ROW_GAP_FACTOR * self.row_gap:
            # text alone further below than any row of the table is from the next row: a heading
            return False
        if self.fits(line):
            self.row_gap = max(self.row_gap, gap)
            self.add_row(line)
            return True
        if len(self.rows) == 1 and len(line.chunks) == 1 and self.starts_at_left(line):
            # Prose right under a (repeated) header is a comment row broken by the page break: the
            # table goes on below it.
            self.add_row(line, full_width=True)
            return True
        return False

    def starts_at_left(self, line: Line) -> bool:
        return abs(line.x0 - self.starts[0]) <= COLUMN_ALIGN_TOLERANCE


def column_text_right(table: BorderlessTable, lines: list[Line]) -> list[float]:
    """Per column, the right end of its text furthest right, over the lines that are table rows."""
    right = [0.0] * (len(table.bounds) + 1)
    for line in lines:
        words = line.words
        if any(table.crosses_columns(word) for word in words):
            continue  # prose, a comment
        for word in words:
            column = table.column_of(word)
            right[column] = max(right[column], ink_extent(word)[1])
    return right


def table_region(header: Line, below: list[Line]) -> list[Line]:
    """The lines that may belong to the table under `header`: in its text size, without a wide gap,
    up to the next table header. They give the column model; rows are decided line by line later."""
    region: list[Line] = []
    bottom = header.bottom
    for line in below:
        if line.top - bottom > BORDERLESS_TABLE_END_GAP_EM * header.size:
            break
        if abs(line.size - header.size) > FONT_SIZE_TOLERANCE or starts_table_header(line.text):
            break
        region.append(line)
        bottom = line.bottom
    return region


def column_bounds(starts: list[float], right: float, header: Line, region: list[Line]) -> list[float]:
    """x between each pair of neighbouring columns, in the gutter that (nearly) every line of the
    table leaves empty near where the header cell starts. Lines in one piece that start in the name
    column (wrapped names, comments, prose) say nothing about the value columns and are left out."""
    lines = [header] + [line for line in region if len(line.chunks) > 1 or line.x0 > starts[0] + COLUMN_ALIGN_TOLERANCE]
    intervals = [ink_extent(word) for line in lines for word in line.words]
    allowed = max(1, round(GUTTER_MAX_SHARE * len(lines)))
    bounds: list[float] = []
    edges = [*starts, right]
    for k in range(1, len(starts)):
        fallback = starts[k] - COLUMN_ALIGN_TOLERANCE
        lo = (edges[k - 1] + edges[k]) / 2
        hi = (edges[k] + edges[k + 1]) / 2
        if bounds:
            lo = max(lo, bounds[-1] + COLUMN_ALIGN_TOLERANCE)
        if hi <= lo:
            bounds.append(fallback)
            continue
        count, left, right = gutter_near(intervals, lo, hi, starts[k])
        if count > allowed:
            bounds.append(fallback)
        elif k == 1:
            # Names are ragged: a longer one elsewhere reaches further right than any seen here, up
            # to where the first value column's text begins.
            bounds.append(right - min(COLUMN_ALIGN_TOLERANCE, (right - left) / 2))
        else:
            bounds.append((left + right) / 2)
    return bounds


def build_page_items(page: Page, carried: BorderlessTable | None) -> BorderlessTable | None:
    """Body lines + tables of one page in reading order. Returns the borderless table still open at
    the foot of the page, which may go on at the top of the next page (with or without a header)."""
    items: list[Item] = list(page.tables)
    first_body_top = min((line.top for line in page.body), default=page.height)
    table_above = any(table.top < first_body_top for table in page.tables)
    open_table: BorderlessTable | None = None
    for index, line in enumerate(page.body):
        if open_table is not None and open_table.accept(line):
            continue
        if open_table is not None:
            items.append(open_table.to_table())
            open_table = None
        if starts_table_header(line.text) and len(header_cell_starts(line)) >= 2:
            open_table = BorderlessTable.from_header(line, page.number, page.body[index + 1 :])
        elif index == 0 and carried is not None and not table_above and carried.fits(line):
            open_table = carried.carried_to(page.number)
            open_table.add_row(line)
        else:
            items.append(BodyLine(line, page.number))
    carry_on = None
    if open_table is not None:
        items.append(open_table.to_table())
        if not any(table.top > open_table.last_bottom for table in page.tables):
            carry_on = open_table
    items.sort(key=lambda item: item.top)
    page.items = items
    return carry_on


# ---------------------------------------------------------------------------------------------
# Whole document
# ---------------------------------------------------------------------------------------------


def lay_out_page(page: Page) -> None:
    """Split the page's glyphs into bordered tables and body text lines."""
    grids = find_grids(page.horizontals, page.verticals)
    in_cells, outside = split_glyphs_by_grid(page.glyphs, grids)
    page.tables = [table_from_grid(grid, gi, in_cells, page.number) for gi, grid in enumerate(grids)]
    page.tables = [table for table in page.tables if table.rows]
    page.body = group_into_lines(outside)
    page.glyphs = []  # no longer needed; keeps memory flat on long reports


def drop_running_lines(pages: list[Page]) -> None:
    """Remove page numbers and running headers/footers: lines repeated at the same height in the
    page margins of many pages. They are peeled off from the page edge inwards, so a body line that
    happens to open several pages ("Uppfylls helt") stays: it is inside the running header."""
    seen: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for page in pages:
        for line in page.body:
            if page.in_margin(line):
                seen[running_key(line.text)].append((page.number, line.top))
    needed = max(RUNNING_LINE_MIN_PAGES, math.ceil(RUNNING_LINE_MIN_SHARE * len(pages)))

    def is_running(page: Page, line: Line) -> bool:
        # a table header repeated at the top of each page is the table's, not the page's
        if not page.in_margin(line) or starts_table_header(line.text):
            return False
        if PAGE_NUMBER_LINE.match(line.text.strip()):
            return True
        pages_here = {
            number for number, top in seen[running_key(line.text)] if abs(top - line.top) <= RUNNING_LINE_Y_TOLERANCE
        }
        return len(pages_here) >= needed

    for page in pages:
        lines = page.body  # top to bottom
        start, end = 0, len(lines)
        while start < end and is_running(page, lines[start]) and lines[start].top < page.height / 2:
            start += 1
        while end > start and is_running(page, lines[end - 1]) and lines[end - 1].top > page.height / 2:
            end -= 1
        page.body = lines[start:end]


def running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()))


def join_tables_across_pages(pages: list[Page]) -> None:
    """A table at the foot of a page that goes on at the top of the next page becomes one table."""
    previous: Table | None = None
    for page in pages:
        first = page.items[0] if page.items else None
        if previous is not None and isinstance(first, Table) and same_columns(previous, first):
            append_continuation(previous, first)
            page.items.pop(0)
            if not page.items:
                continue  # the whole page was table: it may go on further
        last = page.items[-1] if page.items else None
        previous = last if isinstance(last, Table) else None


def same_columns(upper: Table, lower: Table) -> bool:
    return len(upper.columns) == len(lower.columns) and all(
        abs(a - b) <= COLUMN_MATCH_TOLERANCE for a, b in zip(upper.columns, lower.columns, strict=True)
    )


def append_continuation(table: Table, continuation: Table) -> None:
    rows = continuation.rows
    if rows and table.rows and rows[0].text() == table.rows[0].text():
        rows = rows[1:]  # the header row repeated on the new page
    if rows and table.rows and row_goes_on(table.rows[-1], rows[0]):
        for cell, more in zip(table.rows[-1].cells, rows[0].cells, strict=True):
            cell.lines.extend(more.lines)
        rows = rows[1:]
    table.rows.extend(rows)
    table.bottom = continuation.bottom


def row_goes_on(upper: Row, lower: Row) -> bool:
    """Was `upper` broken by the page break and `lower` its rest?"""
    if upper.is_header or len(upper.cells) != len(lower.cells):
        return False
    if any(cell.is_unfinished() for cell in upper.cells):
        return True
    if len(upper.cells) == 1:
        # a full-width row at the top of a page that is not a new Kommentar/Analys row is the rest
        # of the one above (its text went on after a line break in the cell)
        return not FULL_WIDTH_ROW.match(lower.cells[0].text())
    # the rest of a broken row has nothing in the name column but text in others, or the rest of
    # the name (a name starts with a capital)
    if upper.cells[0].is_empty:
        return False
    return lower.cells[0].is_empty or lower.cells[0].text()[:1].islower()


def vocabulary_key(word: str) -> str:
    return word.strip(WORD_PUNCTUATION).lower()


class DocumentWords(set):
    """Words the document prints whole, and whether its producer keeps the space at which it wraps
    a line as a glyph (some do, others draw none): where it does not, a line that ends without one
    says nothing about a word broken at the line end."""

    keeps_wrap_spaces: bool = True


def document_vocabulary(pages: list[Page]) -> DocumentWords:
    """Words printed whole somewhere in the document: not at a line end that may be a broken word,
    not at a line start that may be the rest of one. Linear in the number of words."""
    words = DocumentWords(TABLE_WORDS)
    for page in pages:
        add_whole_words([chunk for line in page.body for chunk in line.chunks], words)
        for table in page.tables:
            for row in table.rows:
                for cell in row.cells:
                    add_whole_words(cell.lines, words)
    words.keeps_wrap_spaces = any(line.ends_with_space for page in pages for line in page.body)
    return words


def add_whole_words(sequence: list[Line], words: set[str]) -> None:
    for index, unit in enumerate(sequence):
        previous = sequence[index - 1] if index > 0 else None
        has_next = index + 1 < len(sequence)
        unit_words = unit.text.split()
        for position, word in enumerate(unit_words):
            if position == len(unit_words) - 1 and has_next and not unit.ends_with_space:
                continue  # may be the first part of a word broken at the line end
            if position == 0 and previous is not None and not previous.ends_with_space and word[:1].islower():
                continue  # may be the rest of a word broken at the end of the line above
            words.add(vocabulary_key(word))


def body_line_text(line: Line) -> str:
    """A body line: chunks far apart (tab stops) joined by TAB, others by a space."""
    pieces = [line.chunks[0].text.strip()]
    for left, right in zip(line.chunks, line.chunks[1:], strict=False):
        gap = right.x0 - left.x1
        pieces.append("\t" if gap > BODY_TAB_GAP_EM * min(left.size, right.size) else " ")
        pieces.append(right.text.strip())
    return "".join(pieces).strip()


def paragraph_text(item: BodyLine) -> str:
    text = body_line_text(item.line)
    previous = item.line
    for line in item.wrapped:
        joint = " " if previous.ends_with_space or not ends_in_break_after(previous.text.strip()) else ""
        text = text.rstrip() + joint + body_line_text(line)
        previous = line
    return text


def join_paragraph_lines(pages: list[Page]) -> None:
    """Lines of one paragraph -> one item, as in the .txt files (a heading, "Uppfylls helt" or a
    cover title stays a line of its own). LibreOffice ends a wrapped line with the space it wrapped
    at (or a hyphen), and the last line of a paragraph without one: that decides, plus the next line
    being right below in the same size. A paragraph may go on on the next page."""
    open_paragraph: BodyLine | None = None
    right_edges = right_text_edges(pages)
    text_right = 0.0
    for page in pages:
        kept: list[Item] = []
        previous_right, text_right = text_right, right_edges[round(page.width)]
        for index, item in enumerate(page.items):
            first_on_page = index == 0
            right = previous_right if first_on_page else text_right
            if isinstance(item, BodyLine) and open_paragraph is not None:
                if continues_paragraph(open_paragraph.last, item.line, first_on_page, right):
                    open_paragraph.wrapped.append(item.line)
                    continue
            kept.append(item)
            open_paragraph = item if isinstance(item, BodyLine) else None
        page.items = kept


def right_text_edges(pages: list[Page]) -> dict[int, float]:
    """Where running text ends on the right, per page width (portrait and landscape pages have
    their own): the longest lines of the document reach the margin."""
    edges: dict[int, float] = {}
    for page in pages:
        key = round(page.width)
        for line in page.body:
            if len(line.chunks) == 1:
                edges[key] = max(edges.get(key, 0.0), line.x1)
        edges.setdefault(key, page.width)
    return edges


def continues_paragraph(upper: Line, lower: Line, first_on_page: bool, text_right: float) -> bool:
    """Is `lower` the next line of the paragraph whose last line (so far) is `upper`?"""
    if len(upper.chunks) > 1 or len(lower.chunks) > 1:
        return False  # tab stops: a table of contents line or a table without borders
    if abs(upper.size - lower.size) > FONT_SIZE_TOLERANCE:
        return False
    wrapped = (
        upper.ends_with_space
        or ends_in_break_after(upper.text.strip())
        # the space it wrapped at did not fit before the margin, so it was dropped
        or upper.x1 + upper.glyphs[-1].space + FULL_LINE_SLACK > text_right
    )
    if not wrapped:
        return False
    if first_on_page:
        return True  # the paragraph goes on at the top of the next page
    return 0 <= lower.top - upper.bottom <= PARAGRAPH_LINE_GAP_EM * lower.size


def item_texts(item: Item, vocabulary: Vocabulary) -> Iterator[tuple[int, str]]:
    if isinstance(item, BodyLine):
        yield item.page, paragraph_text(item)
        return
    for row in item.rows:
        text = row.text(vocabulary)
        if text.strip():
            yield row.page, text
    # An empty line marks where the table ends, as in the .txt files: text right under a table
    # (a heading, a paragraph) is then not read as more of its last row or comment.
    yield item.rows[-1].page, ""


def pdf_to_lines(path: str, on_page: Callable[[int], None] | None = None) -> list[TextLine]:
    """Every line of the PDF's text in reading order, table rows as TAB-separated cells.

    `on_page(n)` is called after page n is read, for a progress display.
    """
    return lines_from_pages(read_raw_pages(path, on_page=on_page))


def lines_from_pages(raw_pages: Iterable[RawPage]) -> list[TextLine]:
    """The lines of a document from its RawPages, every page in order (read here or in parts elsewhere)."""
    pages = []
    space_ems: dict[str, float] = {}
    for raw in raw_pages:
        page = read_page(raw, space_ems)
        lay_out_page(page)
        pages.append(page)
    drop_running_lines(pages)
    vocabulary = document_vocabulary(pages)
    carried: BorderlessTable | None = None
    for page in pages:
        carried = build_page_items(page, carried)
    join_tables_across_pages(pages)
    join_paragraph_lines(pages)

    lines: list[TextLine] = []
    line_numbers: dict[int, int] = defaultdict(int)
    for page in pages:
        for item in page.items:
            for page_number, text in item_texts(item, vocabulary):
                line_numbers[page_number] += 1
                lines.append(TextLine(page=page_number, line_no=line_numbers[page_number], text=text))
    return lines
