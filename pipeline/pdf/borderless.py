"""Tables without borders, rebuilt from a header line and the gutters the lines below it leave empty.

A table starts at a header line starting "Indikator"/"Aktivitet"; its columns start where the header
cells start, and the bounds between them lie in the gutters that (nearly) every line of the table leaves
empty. The lines below become new rows, or more wrapped text of the last row, until one does not fit; a
table still open at the foot of a page may go on at the top of the next.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.pdf.cells import MARKER_GLYPHS, STRADDLES_COLUMNS, Cell, Row, Table, starts_table_header
from pipeline.pdf.drawing import Drawing
from pipeline.pdf.glyphs import Glyph
from pipeline.pdf.header import header_columns, ink_extent
from pipeline.pdf.lines import Line

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# Tables without borders: a chunk starts in a column if it starts at most this far left of it.
COLUMN_ALIGN_TOLERANCE = 2.0
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
# Tables without borders: a wrapped cell's lines may be this much further apart than the most space
# measured between two lines of one cell of the table.
WRAP_SLACK_EM = 0.1
# ... and that space is never taken for more than this.
MAX_WRAP_GAP_EM = 0.6
# Tables without borders: a table that has drawn an edge between two rows at least this often, and
# never left one out, draws one between every two rows: lines with none between them are one row.
MIN_RULED_BOUNDARIES = 2
# Tables without borders: a line at least this much closer to the line above than any two rows of
# the table are to each other is of the same row (cell padding puts space between rows).
DISTINCT_ROW_GAP_EM = 0.2
# Tables without borders: a line that reaches this far up into the line above is of the same row.
LINE_OVERLAP = 0.5
# ... by less than this share of a line's height below the line above.
OFFSET_SHARE = 0.75
# Tables without borders: lines whose tops differ by at most this share of a line's height stand side by side.
SAME_TOP_SHARE = 0.25
# Tables without borders: a cell whose last line ends this close to its column edge may go on below.
NEAR_FULL_EM = 1.0
# Tables without borders: a piece of text reaching more than this past a bound on both sides, with no
# uncovered gap wider than STRADDLE_GAP_EM where it crosses it (one run of text: a word, or words with
# their space glyphs between them; two cells side by side leave a gap no glyph covers), lies in two
# columns: under which one its value stands is not known.
STRADDLE_EM = 0.5
STRADDLE_GAP_EM = 0.1
# Tables without borders: text of another size than the table's is not part of it.
FONT_SIZE_TOLERANCE = 0.6

FULL_WIDTH_ROW = re.compile(r"^(?:Kommentar|Analys)\b")


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
    # the least space seen between two indicator rows
    tightest_row_gap: float = math.inf
    # the most space between two lines of one wrapped cell (the table's line spacing)
    wrap_gap: float = 0.0
    # rules and shaded boxes the page draws: a drawn edge between two lines ends a row
    drawing: Drawing = field(default_factory=lambda: Drawing([], []))
    # how many boundaries between two rows had a drawn edge, and how many had none
    ruled: int = 0
    unruled: int = 0
    rows: list[Row] = field(default_factory=list)
    last_bottom: float = 0.0
    last_top: float = 0.0  # of the line added last
    # a row's values stood beside a later line of its name than the first (vertically centred or
    # bottom-aligned cells): values beside a name's first line then end the row
    centred: bool = False

    @classmethod
    def from_header(
        cls, block: list[Line], anchor: Line, page: int, below: list[Line], drawing: Drawing
    ) -> BorderlessTable:
        """The table under the header lines `block` (its "Indikator" line is `anchor`), whose lines
        that may follow are `below`."""
        region = table_region(anchor, max(line.bottom for line in block), below, drawing)
        right = max([line.x1 for line in block] + [other.x1 for other in region])
        body_bottom = region[-1].bottom if region else None
        starts, bounds = header_columns(block, anchor, drawing, right, body_bottom)
        if not bounds:
            bounds = column_bounds(starts, right, block, region)
        starts = [min(starts[0], names_left(bounds, region)), *starts[1:]]
        table = cls(starts, bounds, right=max(line.x1 for line in block), size=anchor.size, page=page, drawing=drawing)
        table.text_right = column_text_right(table, [*block, *region])
        table.name_right = table.text_right[0] or table.column_right(0)
        measured = wrap_spacing(block, region) + WRAP_SLACK_EM * anchor.size
        table.wrap_gap = max(BORDERLESS_WRAP_GAP_EM * anchor.size, measured)
        table.add_row(block[0])
        for line in block[1:]:
            table.put_chunks(line, table.rows[-1].cells)
            table.rows[-1].bottom = table.last_bottom = line.bottom
            table.last_top = line.top
        return table

    @property
    def line_height(self) -> float:
        return self.last_bottom - self.last_top

    def carried_to(self, page: int, drawing: Drawing) -> BorderlessTable:
        """The same columns, open for the table's rows on the next page."""
        return BorderlessTable(
            self.starts,
            self.bounds,
            self.right,
            self.size,
            page,
            self.name_right,
            text_right=self.text_right,
            wrap_gap=self.wrap_gap,
            drawing=drawing,
            ruled=self.ruled,
            unruled=self.unruled,
            tightest_row_gap=self.tightest_row_gap,
            centred=self.centred,
        )

    def to_table(self) -> Table:
        return Table(self.rows, self.starts, self.rows[0].top, self.last_bottom)

    def column_of(self, word: list[Glyph]) -> int:
        x0, x1 = ink_extent(word)
        return bisect_right(self.bounds, (x0 + x1) / 2)

    def crosses_columns(self, word: list[Glyph]) -> bool:
        # a bound strictly inside (x0 + tolerance, x1 - tolerance)
        return crosses(word, self.bounds)

    def straddled_columns(self, line: Line) -> set[int]:
        """The columns on both sides of a bound that a piece of `line` lies well across (a centred
        value wrapped wider than its column reaching into the one on its left)."""
        reach, gap = STRADDLE_EM * self.size, STRADDLE_GAP_EM * self.size
        columns: set[int] = set()
        for chunk in line.chunks:
            x0, x1 = ink_extent(chunk.glyphs)
            for column, bound in enumerate(self.bounds):
                if x0 < bound - reach and x1 > bound + reach and uncovered_gap(chunk.glyphs, bound) <= gap:
                    columns |= {column, column + 1}
        return columns

    def guard_straddle(self, line: Line) -> None:
        """Flag the last row if `line` lies across a bound, and distrust the values of the columns it
        spans: a value put under the wrong column is worse than a missing one."""
        row = self.rows[-1]
        columns = self.straddled_columns(line) if len(row.cells) > 1 else set()
        if columns:
            row.flag = row.flag or STRADDLES_COLUMNS
            row.untrusted |= columns - {0}

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
        if len(self.rows) > 1:  # a boundary between two rows below the header: is it drawn?
            if self.drawing.separates(self.last_bottom, line.top, self.starts[0], self.size):
                self.ruled += 1
            else:
                self.unruled += 1
        if full_width or FULL_WIDTH_ROW.match(line.text):
            cells = [Cell([line], inner_right=self.right)]
        else:
            cells = [Cell(inner_right=self.column_right(c)) for c in range(len(self.bounds) + 1)]
            self.put_chunks(line, cells)
        self.rows.append(Row(cells, self.page, line.top, line.bottom))
        self.right = max(self.right, line.x1)
        self.last_bottom = line.bottom
        self.last_top = line.top

    def put_chunks(self, line: Line, cells: list[Cell]) -> None:
        by_column: dict[int, list[Glyph]] = defaultdict(list)
        for word in line.words:
            if self.crosses_columns(word) and cells_run_together(word, self.bounds):
                # two header cells with no gap at all ("PeriodensPrognos"): split at the gutter
                for glyph in word:
                    by_column[bisect_right(self.bounds, glyph.mid_x)].append(glyph)
            else:  # a word centred over the columns it spans ("Utfall") goes whole to the middle one
                by_column[self.column_of(word)].extend(word)
        for column, glyphs in by_column.items():
            cells[column].lines.append(Line(glyphs))

    def continues_row(self, line: Line) -> bool:
        """Is `line` more wrapped text of the current row? Only if it is close below, and either it
        leaves the name column empty (every row has a name) or each cell it writes to was wrapped."""
        row = self.rows[-1]
        if line.top - self.last_bottom > self.wrap_gap:
            return False
        if self.drawing.separates(self.last_bottom, line.top, self.starts[0], self.size):
            return False  # a rule or the edge of a shaded row between them
        if self.ruled >= MIN_RULED_BOUNDARIES and not self.unruled:
            return True  # the table draws an edge between every two rows, and there is none here
        if line.top < self.last_bottom - LINE_OVERLAP and line.top - self.last_top < OFFSET_SHARE * self.line_height:
            # lines of two rows never overlap; vertically centred cells of one row do, offset by
            # part of a line (with little cell padding, the text boxes of two rows may touch)
            return True
        gap = line.top - self.last_bottom
        if self.tightest_row_gap < math.inf and gap + DISTINCT_ROW_GAP_EM * self.size <= self.tightest_row_gap:
            return True  # much closer than any two rows of the table: a line of the same row
        columns = self.line_columns(line)
        self.centred = self.centred or is_centred(row)
        if self.centred and columns == {0} and is_one_line_row(row):
            # every value beside the name's first line, one line each, in a table that centres its
            # cells: the name is whole, a name alone below starts the next row
            return False
        if len(row.cells) == 1:
            # A comment row: its label may stand on a line of its own and its text run over several
            # paragraphs; a line close below, starting where the comment starts, in one piece, is more
            # of it (a new indicator row has cells in the value columns; a line of values alone at
            # the foot of a page is a row whose name went on to the next page).
            cell = row.cells[0]
            if 0 not in columns or (len(columns) > 1 and len(line.chunks) > 1 and self.fits(line)):
                return False
            return self.may_go_on(cell) or (
                len(line.chunks) == 1 and abs(line.x0 - cell.lines[0].x0) <= COLUMN_ALIGN_TOLERANCE
            )
        if 0 not in columns:
            return True
        if len(columns) > 1 and FULL_WIDTH_ROW.match(line.text):
            # a comment label running across the value columns starts a comment row, however close
            # below a name that would not have fitted it (little cell padding, no rule between rows)
            return False
        # The name column decides: its text goes on if it was wrapped (a trailing space or hyphen),
        # or if the next line's first word would not have fitted after it. A line that also brings
        # values is the rest of the row only if it goes on in lower case (a new row's name starts
        # with a capital or a marker glyph), or if each value cell it writes to goes on as well:
        # right-aligned values always reach their column's edge, so reaching it proves nothing.
        name = row.cells[0]
        if name.is_empty and len(self.rows) > 1:  # (rows[0] is the header)
            # values standing above their name (a tall cell centred beside a shorter name): every
            # row has a name, this is its first line
            return any(not cell.is_empty for cell in row.cells[1:])
        if name.is_empty or not self.name_goes_on(name, line):
            return False
        if columns == {0} or name.is_unfinished():
            return True
        if all(cell.is_empty for cell in row.cells[1:]):
            return True  # every row has values: a vertically centred row brings them below its first line
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
        if open_gap(self.drawing, self.last_bottom, line, self.starts[0]) > BORDERLESS_TABLE_END_GAP_EM * self.size:
            return False
        if starts_table_header(line.text) or abs(line.size - self.size) > FONT_SIZE_TOLERANCE:
            return False
        if self.continues_row(line):
            row = self.rows[-1]
            if len(row.cells) == 1:
                row.cells[0].lines.append(line)
            else:
                self.put_chunks(line, row.cells)
                self.guard_straddle(line)
            row.bottom = line.bottom
            self.last_bottom = line.bottom
            self.last_top = line.top
            self.right = max(self.right, line.x1)
            return True
        gap = line.top - self.last_bottom
        if len(line.chunks) == 1 and self.row_gap and gap > ROW_GAP_FACTOR * self.row_gap:
            # text alone further below than any row of the table is from the next row: a heading
            return False
        if self.fits(line):
            if len(self.rows) > 1:  # between two rows: a header's last line may stand apart from its cell's edge
                self.row_gap = max(self.row_gap, gap)
            if len(self.rows) > 1 and len(self.rows[-1].cells) > 1 and not FULL_WIDTH_ROW.match(line.text):
                # between two indicator rows (a header or a comment row may have padding of its own)
                self.tightest_row_gap = min(self.tightest_row_gap, gap)
            self.add_row(line)
            self.guard_straddle(line)
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
    comment_x0 = None
    for line in lines:
        words = line.words
        # A comment row spans the table: its lines (its label's and the ones in one piece below it)
        # say nothing about where names wrap, even where no word happens to cross a bound.
        if FULL_WIDTH_ROW.match(line.text):
            comment_x0 = line.x0
            continue
        if comment_x0 is not None and len(line.chunks) == 1 and abs(line.x0 - comment_x0) <= COLUMN_ALIGN_TOLERANCE:
            continue
        comment_x0 = None
        if any(table.crosses_columns(word) for word in words):
            continue  # prose, a comment
        for word in words:
            column = table.column_of(word)
            right[column] = max(right[column], ink_extent(word)[1])
    return right


def open_gap(drawing: Drawing, bottom: float, line: Line, x: float) -> float:
    """The space between text ending at `bottom` and `line` below it, or where the page draws an edge
    between them (a rule, a shaded row's edge), the wider of the spaces on either side of the edges:
    cell padding puts its space on both sides of a drawn row edge, however wide it is."""
    edges = [y for y, lo, hi in drawing.edges_within(bottom, line.top) if lo - 1.0 <= x <= hi + 1.0]
    if not edges:
        return line.top - bottom
    return max(edges[0] - bottom, line.top - edges[-1])


def table_region(header: Line, bottom: float, below: list[Line], drawing: Drawing) -> list[Line]:
    """The lines that may belong to the table under `header` (whose lines end at `bottom`): in its
    text size, without a wide gap, up to the next table header. They give the column model; rows are
    decided line by line later."""
    region: list[Line] = []
    for line in below:
        if open_gap(drawing, bottom, line, line.x0) > BORDERLESS_TABLE_END_GAP_EM * header.size:
            break
        if abs(line.size - header.size) > FONT_SIZE_TOLERANCE or starts_table_header(line.text):
            break
        region.append(line)
        bottom = line.bottom
    return region


def names_left(bounds: list[float], region: list[Line]) -> float:
    """Where the names start: the left end of the rows that bring values, else of the name lines
    above the first line of values (vertically centred values stand on lines of their own); a name
    column's header may be centred or right-aligned over left-aligned names (inf if no row is seen)."""
    if not bounds:
        return math.inf
    beside, above, values = [], [], False
    for line in region:
        words = line.words
        if any(crosses(word, bounds) for word in words):
            continue  # prose or a comment across the columns
        has_values = ink_extent(words[-1])[1] > bounds[0]
        if ink_extent(words[0])[1] <= bounds[0]:
            (beside if has_values else above if not values else []).append(line.x0)
        values = values or has_values
    return min(beside or (above if values else []), default=math.inf)


def is_centred(row: Row) -> bool:
    """Do the row's values start below its name's first line (vertically centred or bottom-aligned)?"""
    name = row.cells[0].lines
    if len(row.cells) == 1 or len(name) < 2:
        return False
    height = name[0].bottom - name[0].top
    return any(c.lines and c.lines[0].top > name[0].top + SAME_TOP_SHARE * height for c in row.cells[1:])


def is_one_line_row(row: Row) -> bool:
    """A name of one line with every value beside it, each of one line."""
    name = row.cells[0].lines
    values = [c.lines for c in row.cells[1:] if c.lines]
    if len(row.cells) == 1 or len(name) != 1 or not values:
        return False
    height = name[0].bottom - name[0].top
    return all(len(v) == 1 and abs(v[0].top - name[0].top) <= SAME_TOP_SHARE * height for v in values)


def cells_run_together(word: list[Glyph], bounds: list[float]) -> bool:
    """Does a new cell start where `word` crosses a bound (a capital or a digit right after it)?"""
    for before, after in zip(word, word[1:], strict=False):
        if bisect_right(bounds, before.mid_x) != bisect_right(bounds, after.mid_x):
            return after.text[:1].isupper() or after.text[:1].isdigit()
    return False


def uncovered_gap(glyphs: list[Glyph], bound: float) -> float:
    """The space no glyph (space glyphs included) covers where `glyphs` cross `bound`."""
    left = [g.x1 for g in glyphs if g.mid_x < bound]
    right = [g.x0 for g in glyphs if g.mid_x >= bound]
    return min(right) - max(left) if left and right else math.inf


def crosses(word: list[Glyph], bounds: list[float]) -> bool:
    x0, x1 = ink_extent(word)
    return bisect_left(bounds, x1 - COLUMN_ALIGN_TOLERANCE) > bisect_right(bounds, x0 + COLUMN_ALIGN_TOLERANCE)


def wrap_spacing(block: list[Line], region: list[Line]) -> float:
    """The most space between two lines of a wrapped cell of the table: between its header lines,
    and above a line that only goes on with a name in lower case (0.0 if none is seen)."""
    gaps = [lower.top - upper.bottom for upper, lower in zip(block, block[1:], strict=False)]
    for upper, lower in zip(region, region[1:], strict=False):
        if len(lower.chunks) == 1 and lower.text[:1].islower() and abs(lower.x0 - upper.x0) <= COLUMN_ALIGN_TOLERANCE:
            gaps.append(lower.top - upper.bottom)
    return min(max(gaps, default=0.0), MAX_WRAP_GAP_EM * (block[0].size if block else 0.0))


def column_bounds(starts: list[float], right: float, header: list[Line], region: list[Line]) -> list[float]:
    """x between each pair of neighbouring columns, in the gutter that (nearly) every line of the
    table leaves empty near where the header cell starts. Lines in one piece that start in the name
    column (wrapped names, comments, prose) say nothing about the value columns and are left out."""
    lines = header + [line for line in region if len(line.chunks) > 1 or line.x0 > starts[0] + COLUMN_ALIGN_TOLERANCE]
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
            continue
        column_left = bounds[-1] if bounds else -math.inf
        # (a column of values may start left of where the header cells' starts put the search)
        floor = column_left + COLUMN_ALIGN_TOLERANCE if bounds else lo
        earlier = gutter_before_values(lines, intervals, allowed, column_left, floor, left)
        if earlier is not None:
            bounds.append(earlier)
        elif k == 1:
            # Names are ragged: a longer one elsewhere reaches further right than any seen here, up
            # to where the first value column's text begins.
            bounds.append(right - min(COLUMN_ALIGN_TOLERANCE, (right - left) / 2))
        else:
            bounds.append((left + right) / 2)
    return bounds


def gutter_before_values(
    lines: list[Line], intervals: list[tuple[float, float]], allowed: int, column_left: float, lo: float, bound: float
) -> float | None:
    """Header cells right-aligned or centred over left-aligned (or narrower) values: the gutter nearest
    the header's start then leaves a column of values with no header over it, a second piece on its
    lines in the column to the left (a name column holds one piece a line, so does a value column).
    Such a column starts at the empty gutter left of those pieces: the bound goes there. None where no
    line has a second piece, or the pieces are one repeated text (a "%" set apart)."""
    orphans: list[tuple[float, float, str]] = []
    kept_right = -math.inf
    lines_with = 0
    for line in lines:
        pieces = [(*ink_extent(chunk.glyphs), chunk.text.strip()) for chunk in line.chunks]
        inside = [p for p in pieces if p[0] >= column_left - COLUMN_ALIGN_TOLERANCE and p[1] <= bound]
        if len(inside) > 1:
            kept_right = max(kept_right, inside[0][1])
            orphans += inside[1:]
            lines_with += 1
    if lines_with < 2 or len({text for _, _, text in orphans}) < 2:
        return None
    first = min(x0 for x0, _, _ in orphans)
    runs = quiet_runs(intervals, lo, first)
    runs = [run for run in runs if run[0] <= allowed and run[1] >= kept_right - TOUCH_TOLERANCE]
    if not runs:
        return None
    _, left, right = runs[-1]
    return right - min(COLUMN_ALIGN_TOLERANCE, (right - left) / 2)
