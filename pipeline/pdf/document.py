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
line/rectangle with coordinates (glyphs.py); glyphs are grouped into lines (lines.py). Tables with borders
are rebuilt from the drawn edges (ruled.py: rows between horizontal borders, cells between the vertical
borders crossing each row). Tables without borders are found from a header line starting
"Indikator"/"Aktivitet" and rebuilt from the header cells' x positions (borderless.py). Nothing relies on
the order in which the PDF emits its text. This module lays the pages out and puts the document together:
running lines, tables across pages, paragraphs, the lines in reading order.

Broken files raise pdfminer's own exceptions (PDFSyntaxError, PDFPasswordIncorrect, ...); a PDF without
a text layer gives an empty list.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.common.models import TextLine
from pipeline.common.page_numbers import PAGE_NUMBER_LINE
from pipeline.pdf.borderless import FONT_SIZE_TOLERANCE, FULL_WIDTH_ROW, BorderlessTable
from pipeline.pdf.cells import (
    FULL_LINE_SLACK,
    SOFT_HYPHEN,
    Cell,
    Row,
    Table,
    Vocabulary,
    ends_in_break_after,
    starts_table_header,
    vocabulary_key,
)
from pipeline.pdf.drawing import Box, Drawing
from pipeline.pdf.glyphs import Glyph, RawPage, Segment, read_raw_pages
from pipeline.pdf.header import header_block, header_cell_starts
from pipeline.pdf.lines import LetterGaps, Line, group_into_lines
from pipeline.pdf.ruled import find_grids, split_glyphs_by_grid, table_from_grid
from pipeline.pdf.tagged import tree_tables
from pipeline.pdf.tagged_tables import put_tree_tables

# Tolerances. Lengths are in PDF points (1/72 inch) unless the name ends in _EM (times font size).

# In body text, chunks further apart than this are joined by a TAB (tab stops, table of contents).
BODY_TAB_GAP_EM = 1.5
# Width of a space (in em) in a font whose space glyph the document never shows.
SPACE_WIDTH_EM = 0.25

LIGATURES = {chr(0xFB00 + i): pair for i, pair in enumerate(("ff", "fi", "fl", "ffi", "ffl", "ſt", "st"))}

# Running headers/footers live in these top/bottom fractions of the page height.
PAGE_MARGIN_FRACTION = 0.1
# ... but at least this deep (a landscape page is low, its footer sits as high as a portrait one's).
PAGE_MARGIN_MIN = 85.0
# A running header/footer repeats at the same height (within this) on several pages.
RUNNING_LINE_Y_TOLERANCE = 3.0
# ... on at least this many pages, and on at least this share of the pages.
RUNNING_LINE_MIN_PAGES = 2
RUNNING_LINE_MIN_SHARE = 0.5

# A page's printed number is at most this far from its place in the file (covers, contents pages).
PAGE_NUMBER_OFFSET = 10
# Column separators of two table parts on consecutive pages differ by less than this if they are the
# same table.
COLUMN_MATCH_TOLERANCE = 2.0
# Lines of a paragraph are at most this far apart (paragraph spacing puts more between paragraphs).
PARAGRAPH_LINE_GAP_EM = 0.35

# Whole words of the report tables' headers and standard cells. A header cell prints each of them
# once, often alone on a wrapped line, so the document itself may never show them whole.
TABLE_WORDS = frozenset(
    "indikator periodens utfall män/pojkar kvinnor/flickor vb prognos helår årsmål kf:s period "
    "periodicitet aktivitet startdatum slutdatum avvikelse tertial halvår tas fram av nämnd nämnden "
    "styrelse styrelsen fastställs kommentar analys".split()
)


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


@dataclass
class Page:
    number: int
    width: float
    height: float
    glyphs: list[Glyph]
    horizontals: list[Segment]
    verticals: list[Segment]
    boxes: list[Box] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    body: list[Line] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    # a tagged page's glyphs by the MCID of the marked content they are drawn in (tagged_tables.py)
    marked: dict[int, list[Glyph]] = field(default_factory=dict)

    def in_margin(self, line: Line) -> bool:
        margin = max(PAGE_MARGIN_FRACTION * self.height, PAGE_MARGIN_MIN)
        return line.bottom < margin or line.top > self.height - margin


def read_page(raw: RawPage, space_ems: dict[str, float], letter_gaps: LetterGaps | None = None) -> Page:
    """A RawPage as Glyphs and Segments. `space_ems` (font -> width of its space, in em) grows as
    spaces are seen, page by page; it tells how much room a wrapped line's dropped space needed.
    `letter_gaps` (the document's letter spacing per font) grows page by page too."""
    number, width, height, chars, horizontals, verticals, fills = raw[:7]
    marks = raw[7] if len(raw) > 7 else []
    for text, font, x0, x1, _, _, size in chars:
        if text == " " and size and font not in space_ems:
            space_ems[font] = (x1 - x0) / size
    letter_gaps = letter_gaps or LetterGaps()
    letter_gaps.measure(chars)
    spaced = {font: em for font, em in letter_gaps.tracking_em.items() if em}
    glyphs = []
    for text, font, x0, x1, top, bottom, size in chars:
        if text:
            if "\ufb00" <= text <= "\ufb06":
                text = LIGATURES.get(text, text)  # "ﬂickor" is "flickor": fonts draw some letter pairs as one
            elif text == SOFT_HYPHEN:
                text = "-"  # a drawn soft hyphen is a hyphen: fonts share one glyph, and name either
            size = size or 1.0
            space = space_ems.get(font, SPACE_WIDTH_EM) * size
            tracking = spaced.get(font, 0.0) * size if spaced else 0.0
            glyphs.append(Glyph(text, x0, x1, top, bottom, size, space, tracking))
    page = Page(
        number,
        width,
        height,
        glyphs,
        [Segment(*s) for s in horizontals],
        [Segment(*s) for s in verticals],
        [Box(*box) for box in fills],
    )
    if marks:
        page.marked = glyphs_by_mcid(chars, glyphs, marks)
    return page


def glyphs_by_mcid(chars: list[tuple], glyphs: list[Glyph], marks: list[tuple]) -> dict[int, list[Glyph]]:
    """The page's Glyphs by the MCID they are drawn in. `glyphs` are `chars` without the empty ones."""
    marked: dict[int, list[Glyph]] = defaultdict(list)
    changes = iter(sorted(marks, key=lambda mark: mark[0]) + [(len(chars), -1)])
    next_at, next_mcid = next(changes)
    mcid, kept = -1, 0
    for index, char in enumerate(chars):
        while index >= next_at:
            mcid = next_mcid
            next_at, next_mcid = next(changes)
        if not char[0]:
            continue
        if mcid >= 0:
            marked[mcid].append(glyphs[kept])
        kept += 1
    return dict(marked)


def build_page_items(page: Page, carried: BorderlessTable | None) -> BorderlessTable | None:
    """Body lines + tables of one page in reading order. Returns the borderless table still open at
    the foot of the page, which may go on at the top of the next page (with or without a header)."""
    items: list[Item] = list(page.tables)
    first_body_top = min((line.top for line in page.body), default=page.height)
    table_above = any(table.top < first_body_top for table in page.tables)
    drawing = Drawing(page.horizontals, page.boxes)
    blocks = header_blocks(page.body, drawing)
    open_table: BorderlessTable | None = None
    index = 0
    while index < len(page.body):
        line = page.body[index]
        if index in blocks:
            if open_table is not None:
                items.append(open_table.to_table())
            anchor, last = blocks[index]
            block = page.body[index:last]
            open_table = BorderlessTable.from_header(block, page.body[anchor], page.number, page.body[last:], drawing)
            index = last
            continue
        index += 1
        if open_table is not None and open_table.accept(line):
            continue
        if open_table is not None:
            items.append(open_table.to_table())
            open_table = None
        if index == 1 and carried is not None and not table_above and carried.fits(line):
            open_table = carried.carried_to(page.number, drawing)
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


def header_blocks(lines: list[Line], drawing: Drawing) -> dict[int, tuple[int, int]]:
    """The table headers among a page's lines: first line -> ("Indikator" line, end), so that
    lines[first:end] is one header (header.py)."""
    blocks: dict[int, tuple[int, int]] = {}
    taken = 0
    for index, line in enumerate(lines):
        if index < taken or not starts_table_header(line.text) or len(header_cell_starts(line)) < 2:
            continue
        first, end = header_block(lines, index, drawing)
        first = max(first, taken)
        blocks[first] = (index, end)
        taken = end
    return blocks


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
    if not page.marked:
        page.glyphs = []  # no longer needed; keeps memory flat on long reports (a tagged page's are checked)


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
            # a page number, unless it is far from the page's own ("2014" wrapped under a table
            # cell at the foot of a page)
            return abs(int(re.search(r"\d+", line.text).group()) - page.number) <= PAGE_NUMBER_OFFSET
        pages_here = {
            number for number, top in seen[running_key(line.text)] if abs(top - line.top) <= RUNNING_LINE_Y_TOLERANCE
        }
        return len(pages_here) >= needed

    for page in pages:
        lines = page.body  # top to bottom
        start, end = 0, min(header_tops(page), default=len(lines))
        while start < end and is_running(page, lines[start]) and lines[start].top < page.height / 2:
            start += 1
        end = len(lines)
        while end > start and is_running(page, lines[end - 1]) and lines[end - 1].top > page.height / 2:
            end -= 1
        page.body = lines[start:end]


def header_tops(page: Page) -> Iterator[int]:
    """Where the table headers in the page's top margin begin: a bottom-aligned header's upper lines
    ("Utfall T2" over "2021"), repeated on every page of a long table, are the table's, not the page's."""
    drawing = Drawing(page.horizontals, page.boxes)
    for index, line in enumerate(page.body):
        if line.top > page.height / 2:
            return
        if starts_table_header(line.text):
            yield header_block(page.body, index, drawing)[0]


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
    if rows and table.rows and same_text(rows[0], table.rows[0]):
        rows = rows[1:]  # the header row repeated on the new page
    if rows and table.rows and row_goes_on(table.rows[-1], rows[0]):
        for cell, more in zip(table.rows[-1].cells, rows[0].cells, strict=True):
            cell.lines.extend(more.lines)
        upper = table.rows[-1]  # the rest's distrust goes with it
        upper.untrusted |= rows[0].untrusted
        upper.flag = upper.flag or rows[0].flag
        rows = rows[1:]
    table.rows.extend(rows)
    table.bottom = continuation.bottom


def same_text(one: Row, other: Row) -> bool:
    """The same text, white space aside (a header cell's wrapped words join by the document's
    vocabulary, which is not known yet)."""
    return "".join(one.text().split()) == "".join(other.text().split())


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
        # values alone at the foot of a page, the name (and the other cells) at the top of the next
        return not lower.cells[0].is_empty and not any(
            not a.is_empty and not b.is_empty for a, b in zip(upper.cells, lower.cells, strict=True)
        )
    if lower.cells[0].is_empty or lower.cells[0].text()[:1].islower():
        return True
    # a name alone (every row has values) whose first word would not have fitted after the name
    # above: the rest of that name, from a producer that keeps no space where it wraps a line
    return all(cell.is_empty for cell in lower.cells[1:]) and not fits_after(upper.cells[0], lower.cells[0])


def fits_after(upper: Cell, lower: Cell) -> bool:
    """Would the first word of `lower` have fitted after the last line of `upper`, in its cell?"""
    last, first = upper.lines[-1], lower.lines[0]
    word = next((w for w in first.words), None)
    if word is None:
        return True
    inked = [g for g in word if not g.is_space]
    width = inked[-1].x1 - inked[0].x0 if inked else 0.0
    return last.x1 + last.glyphs[-1].space + width <= upper.inner_right + FULL_LINE_SLACK


class DocumentWords(set):
    """Words the document prints whole, and whether its producer keeps the space at which it wraps
    a line as a glyph (some do, others draw none): where it does not, a line that ends without one
    says nothing about a word broken at the line end."""

    keeps_wrap_spaces: bool = True
    # whether it hyphenates words to wrap them in narrow cells (cells.is_hyphenation)
    hyphenates: bool = False


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


def note_hyphenation(pages: list[Page], words: DocumentWords) -> None:
    """Whether the document's tables (ruled or not, once built) wrap a word at a hyphen where the word
    is one the document prints whole, and not with that hyphen ("Perio-" / "dens", "ut-" / "fall"):
    producers that do hyphenate every narrow cell."""
    tables = (item for page in pages for item in page.items if isinstance(item, Table))
    cells = (cell for table in tables for row in table.rows for cell in row.cells)
    words.hyphenates = any(hyphenates_a_word(cell.lines, words) for cell in cells)


def hyphenates_a_word(lines: list[Line], words: set[str]) -> bool:
    for upper, lower in itertools.pairwise(lines):
        head, tail = upper.text.split(), lower.text.split()
        if not (head and tail and len(head[-1]) > 2 and head[-1].endswith("-") and tail[0][:1].islower()):
            continue
        if vocabulary_key(head[-1][:-1] + tail[0]) in words and vocabulary_key(head[-1] + tail[0]) not in words:
            return True
    return False


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


def item_texts(item: Item, vocabulary: Vocabulary) -> Iterator[tuple[int, str, Row | None]]:
    if isinstance(item, BodyLine):
        yield item.page, paragraph_text(item), None
        return
    for row in item.rows:
        text = row.text(vocabulary)
        if row.untrusted:  # values lying across a column bound: not loaded, the whole reading kept
            row.other = row.other or text
            text = row.trusted_text(vocabulary)
        if text.strip():
            yield row.page, text, row
    # An empty line marks where the table ends, as in the .txt files: text right under a table
    # (a heading, a paragraph) is then not read as more of its last row or comment.
    yield item.rows[-1].page, "", None


def pdf_to_lines(path: str, on_page: Callable[[int], None] | None = None) -> list[TextLine]:
    """Every line of the PDF's text in reading order, table rows as TAB-separated cells; a tagged PDF's
    tables from its structure tree where it holds them (tagged.py, tagged_tables.py).

    `on_page(n)` is called after page n is read, for a progress display.
    """
    return lines_from_pages(read_raw_pages(path, on_page=on_page), path)


def lines_from_pages(raw_pages: Iterable[RawPage], path: str | None = None) -> list[TextLine]:
    """The lines of a document from its RawPages, every page in order (read here or in parts elsewhere);
    where a page has marked content, the tables of the structure tree of the PDF at `path` (tagged.py)."""
    pages = []
    space_ems: dict[str, float] = {}
    letter_gaps = LetterGaps()
    for raw in raw_pages:
        page = read_page(raw, space_ems, letter_gaps)
        lay_out_page(page)
        pages.append(page)
    trees = tree_tables(path) if path is not None and any(page.marked for page in pages) else None
    drop_running_lines(pages)
    vocabulary = document_vocabulary(pages)
    carried: BorderlessTable | None = None
    for page in pages:
        carried = build_page_items(page, carried)
    join_tables_across_pages(pages)
    note_hyphenation(pages, vocabulary)
    if trees:
        put_tree_tables(pages, trees, vocabulary)
    join_paragraph_lines(pages)

    lines: list[TextLine] = []
    line_numbers: dict[int, int] = defaultdict(int)
    for page in pages:
        for item in page.items:
            for page_number, text, row in item_texts(item, vocabulary):
                line_numbers[page_number] += 1
                flag, other = (row.flag, row.other) if row is not None else (None, "")
                lines.append(TextLine(page_number, line_numbers[page_number], text, flag, other))
    return lines
