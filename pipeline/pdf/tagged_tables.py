"""The tables of a tagged PDF read from its structure tree (tagged.py), checked against the geometric
reading of the same pages, and put in its place.

Cells are placed by the header they name: a TD's /Headers (the TH cells' /IDs; of those, the one spanning
fewest columns), else its place in a row that fills the table (ColSpan and RowSpan counted), never its
order in a row that is short of cells: an engine may write no TD at all for an empty cell. A cell's text
is the glyphs of its marked content, each on its own page, laid into lines as any cell's (lines.py,
cells.py); a header cell with content on several pages (repeated at the top of each) is read once.

A tree table is used only where it is an indicator or activity table ("Indikator"/"Aktivitet" heads its
header) and holds the whole table: every row's cells placed, and no glyph inside the table's extent on a
page left outside its cells' marked content. Otherwise (tables tagged as P or Div, no TR, text outside any
MCID, a short row without /Headers) the geometric reading stands.

Where the geometric reading found the same table (a table of its own overlapping the tree table's extent
on a page), the two are compared row by row, by the name cell and the header's words. A row they read
differently (a value in another column, a row the geometry did not find or ran into another) loads the
tree's cells, except values the two readings put in different columns, which are left empty (a wrong
number is worse than a missing one), and is flagged STRUCTURE_DISAGREES with the geometric reading kept
beside it for raw_text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.pdf.cells import Cell, Row, Table, Vocabulary, starts_table_header
from pipeline.pdf.glyphs import Glyph
from pipeline.pdf.lines import Line, group_into_lines
from pipeline.pdf.tagged import TreeCell, TreeTable

STRUCTURE_DISAGREES = "structure_disagrees"

# A report table has no more columns than this (a ColSpan beyond it is not a report's table).
MAX_COLUMNS = 64
# A glyph counts as inside a table's extent when its middle is this far inside it (points).
EXTENT_INSET = 0.5


class PageLike:
    """What this module needs of a laid-out page (document.Page): number, items, glyphs, marked."""

    number: int
    items: list
    glyphs: list[Glyph]
    marked: dict[int, list[Glyph]]


@dataclass
class TaggedTable:
    rows: list[Row]  # the header rows first
    header_rows: int
    header_keys: list[str]  # per column: the words of the lowest header cell over it, without spaces
    extent: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)  # page -> box
    glyph_ids: set[int] = field(default_factory=set)


def put_tree_tables(pages: list, trees: Iterable[TreeTable], vocabulary: Vocabulary) -> None:
    """Each usable tree table replaces what the geometric reading made of the same text (tables and lines),
    checked against it; a table the tree cannot give whole is left to the geometric reading."""
    by_number = {page.number: page for page in pages}
    for tree in trees:
        tagged = place_table(tree, by_number)
        if tagged is None or not is_report_table(tagged) or not holds_whole_table(tagged, by_number):
            continue
        geometric = take_covered_items(tagged, pages)
        if geometric:
            check_rows(tagged, geometric, vocabulary)
        insert_table(tagged, by_number)


# --- the tree's cells in their columns ---------------------------------------------------------


def place_table(tree: TreeTable, pages: dict[int, PageLike]) -> TaggedTable | None:
    """The tree table's rows as Rows of cells under their headers; None where a cell has no sure place."""
    heads = 0
    while heads < len(tree.rows) and all(cell.header for cell in tree.rows[heads]):
        heads += 1
    heads = heads or 1  # a header written as TD cells: the first row
    if heads >= len(tree.rows):
        return None  # a header and no rows
    named = [mark for row in tree.rows for cell in row for mark in cell.content]
    if len(named) != len(set(named)):
        return None  # marked content given to two cells: its text would stand in both
    slots = grid_positions(tree.rows)
    width = max((col + cell.colspan for row in slots[:heads] for col, cell in row), default=0)
    if not 2 <= width <= MAX_COLUMNS:
        return None
    header_cols = {cell.id: (col, cell) for row in slots[:heads] for col, cell in row if cell.id}
    tagged = TaggedTable([], 0, header_keys(slots[:heads], pages, width))
    for index, row_slots in enumerate(slots):
        columns = row_columns(row_slots, header_cols, width, index < heads)
        if columns is None:
            return None
        row = build_row(columns, width, pages, tagged)
        if row is not None and not repeats_header(row, tree.rows[index], tagged):
            tagged.rows.append(row)
            tagged.header_rows += index < heads
    if not 0 < tagged.header_rows < len(tagged.rows):
        return None
    return tagged


def repeats_header(row: Row, tree_row: list[TreeCell], tagged: TaggedTable) -> bool:
    """A header row written again as a TR of its own (at the top of the next page): read once, as the
    geometric reading drops a repeated header."""
    if len(tagged.rows) <= tagged.header_rows or not all(cell.header for cell in tree_row):
        return False
    return any(key_of(row.text()) == key_of(head.text()) for head in tagged.rows[: tagged.header_rows])


def is_report_table(tagged: TaggedTable) -> bool:
    """A table of indicators or activities (its header's first cell "Indikator"/"Aktivitet"): a layout
    table or any other is left to the geometric reading, which knows its lines as text."""
    return any(starts_table_header(row.cells[0].text()) for row in tagged.rows[: tagged.header_rows])


def grid_positions(rows: list[list[TreeCell]]) -> list[list[tuple[int, TreeCell]]]:
    """Each cell's first column as the rows lay it out: cells spanning rows above take their columns."""
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(rows):
        col, placed = 0, []
        for cell in row:
            while (r, col) in taken:
                col += 1
            placed.append((col, cell))
            rows_down, across = min(cell.rowspan, len(rows) - r), min(cell.colspan, MAX_COLUMNS)
            taken.update((r + dr, col + dc) for dr in range(rows_down) for dc in range(across))
            col += cell.colspan
        out.append(placed)
    return out


def row_columns(
    slots: list[tuple[int, TreeCell]], header_cols: dict[str, tuple[int, TreeCell]], width: int, is_header: bool
) -> list[tuple[int, TreeCell]] | None:
    """(column, cell) for each cell of a row; None when a cell has no sure column."""
    if len(slots) == 1 and slots[0][1].colspan >= width:
        return [(0, slots[0][1])]  # a cell across the whole table: a comment row
    # the cells of a row are packed from the left: one short of a cell ends before the last column
    fills = bool(slots) and slots[-1][0] + slots[-1][1].colspan >= width
    out = []
    for col, cell in slots:
        named = [header_cols[h] for h in cell.headers if h in header_cols]
        if named and not is_header:
            col = min(named, key=lambda pair: pair[1].colspan)[0]
        elif not (fills or is_header):
            return None  # a short row without /Headers: its order says nothing of its columns
        if col >= width:
            return None
        out.append((col, cell))
    return out


def header_keys(slots: list[list[tuple[int, TreeCell]]], pages: dict[int, PageLike], width: int) -> list[str]:
    """Per column the words of the lowest header cell standing over it (a two-row header's "Totalt")."""
    keys = [""] * width
    for row in slots:
        for col, cell in row:
            text = key_of(" ".join(line.text for _, line in cell_lines(cell, pages)))
            for c in range(col, min(width, col + cell.colspan)):
                keys[c] = text if cell.colspan == 1 or not keys[c] else keys[c]
    return keys


def cell_lines(cell: TreeCell, pages: dict[int, PageLike], seen: set[int] | None = None) -> list[tuple[int, Line]]:
    """The cell's text lines with their pages, page by page in the tree's order; a page repeating the text
    the cell had on the page before (a header printed again at the top of each page) adds nothing."""
    by_page: dict[int, list[Glyph]] = defaultdict(list)
    for number, mcid in cell.content:
        page = pages.get(number)
        if page is not None:
            by_page[number].extend(page.marked.get(mcid, ()))
    lines: list[tuple[int, Line]] = []
    previous = ""
    for number, glyphs in by_page.items():
        if seen is not None:
            seen.update(id(glyph) for glyph in glyphs)
        here = group_into_lines(glyphs)
        text = key_of(" ".join(line.text for line in here))
        if text and text != previous:
            lines.extend((number, line) for line in here)
        previous = text or previous
    return lines


def build_row(columns: list[tuple[int, TreeCell]], width: int, pages: dict[int, PageLike], tagged: TaggedTable):
    """A Row of `width` cells (one for a comment row) on the page where its text starts; None without text."""
    cells = [Cell() for _ in range(1 if len(columns) == 1 and columns[0][1].colspan >= width else width)]
    placed: list[tuple[int, Line]] = []
    for col, tree_cell in columns:
        lines = cell_lines(tree_cell, pages, tagged.glyph_ids)
        cells[col].lines.extend(line for _, line in lines)
        placed += lines
        extend_extent(tagged, tree_cell, pages)
    if not placed:
        return None
    for cell in cells:
        cell.inner_right = max((line.x1 for line in cell.lines), default=0.0)
    first_page = min(number for number, _ in placed)
    on_page = [line for number, line in placed if number == first_page]
    return Row(cells, first_page, min(line.top for line in on_page), max(line.bottom for line in on_page))


def extend_extent(tagged: TaggedTable, cell: TreeCell, pages: dict[int, PageLike]) -> None:
    for number, mcid in cell.content:
        page = pages.get(number)
        for glyph in page.marked.get(mcid, ()) if page is not None else ():
            x0, x1, top, bottom = tagged.extent.get(number, (glyph.x0, glyph.x1, glyph.top, glyph.bottom))
            tagged.extent[number] = (
                min(x0, glyph.x0),
                max(x1, glyph.x1),
                min(top, glyph.top),
                max(bottom, glyph.bottom),
            )


def holds_whole_table(tagged: TaggedTable, pages: dict[int, PageLike]) -> bool:
    """No glyph inside the table's extent is left out of its cells (text outside any MCID, or in marked
    content the tree gives to no cell of this table)."""
    for number, box in tagged.extent.items():
        for glyph in pages[number].glyphs:
            if not glyph.is_space and inside(glyph, box) and id(glyph) not in tagged.glyph_ids:
                return False
    return True


def inside(glyph: Glyph, box: tuple[float, float, float, float]) -> bool:
    x0, x1, top, bottom = box
    return (
        x0 + EXTENT_INSET < glyph.mid_x < x1 - EXTENT_INSET and top + EXTENT_INSET < glyph.mid_y < bottom - EXTENT_INSET
    )


def key_of(text: str) -> str:
    """Text compared without its white space: where a reading breaks a line does not matter."""
    return "".join(text.split()).lower()


# --- the geometric reading of the same table ---------------------------------------------------


def take_covered_items(tagged: TaggedTable, pages: list) -> list[Table]:
    """Remove the geometric reading's tables and body lines that lie in the tree table's extent; give the
    tables (their rows are what the tree is checked against). Rows of such a table outside the extent
    (another table the drawing ran into this one) stay where they were."""
    taken: list[Table] = []
    first, last = min(tagged.extent), max(tagged.extent)
    for page in pages:
        if not first - 1 <= page.number <= last:
            continue
        kept = []
        for item in page.items:
            if isinstance(item, Table):
                inside = [row for row in item.rows if overlaps(tagged, row.page, row.top, row.bottom)]
                if inside:
                    taken.append(Table(inside, item.columns, item.top, item.bottom))
                    rest = [row for row in item.rows if all(row is not r for r in inside) and not row.is_empty]
                    if any(not row.is_header for row in rest):
                        kept.append(Table(rest, item.columns, rest[0].top, item.bottom))
                    continue
            elif overlaps(tagged, item.page, item.line.top, item.line.bottom, item.line.x0, item.line.x1):
                continue
            kept.append(item)
        page.items = kept
    return taken


def overlaps(tagged: TaggedTable, page: int, top: float, bottom: float, x0: float = -1e9, x1: float = 1e9) -> bool:
    box = tagged.extent.get(page)
    if box is None:
        return False
    bx0, bx1, btop, bbottom = box
    return top < bbottom and bottom > btop and x0 < bx1 and x1 > bx0


def check_rows(tagged: TaggedTable, geometric: list[Table], vocabulary: Vocabulary) -> None:
    """Compare each body row of the tree with the geometric row of the same name; flag where they differ."""
    geo_rows = [row for table in geometric for row in table.rows]
    headers = {len(row.cells): row for row in geo_rows if row.is_header}
    if not headers:
        return  # the geometry saw no table header here: nothing to check against
    by_name: dict[str, list[Row]] = defaultdict(list)
    for row in geo_rows:
        if not row.is_header and not row.is_empty:
            by_name[row_key(row, vocabulary)].append(row)
    for row in tagged.rows[tagged.header_rows :]:
        candidates = by_name.get(row_key(row, vocabulary))
        geo = candidates.pop(0) if candidates else None
        if geo is None:
            differs, unsure = True, []  # a row the geometry did not find: nothing contradicts its cells
        else:
            columns = column_map(tagged, geo, headers.get(len(geo.cells)), vocabulary)
            differs, unsure = compare_cells(row, geo, columns, vocabulary)
        if differs:
            row.flag = STRUCTURE_DISAGREES
            row.other = geo.text(vocabulary) if geo is not None else ""
            for col in unsure:
                row.cells[col] = Cell()  # the readings put this value in different columns: neither is sure


def column_map(tagged: TaggedTable, geo: Row, header: Row | None, vocabulary: Vocabulary) -> dict[int, int]:
    """Tree column -> geometric column: the same where both readings have as many columns, else by the
    words of the geometric header of the row's width (what no word matches stays unmapped)."""
    width = len(tagged.header_keys)
    if len(geo.cells) == width or len(geo.cells) == 1:
        return {col: col for col in range(min(width, len(geo.cells)))}
    if header is None:
        return {}
    keys = [key_of(cell.text(vocabulary)) for cell in header.cells]
    return {col: keys.index(key) for col, key in enumerate(tagged.header_keys) if key and key in keys}


def row_key(row: Row, vocabulary: Vocabulary) -> str:
    return key_of(row.cells[0].text(vocabulary)) if len(row.cells) > 1 else key_of(row.text(vocabulary))


def compare_cells(row: Row, geo: Row, columns: dict[int, int], vocabulary: Vocabulary) -> tuple[bool, list[int]]:
    """Whether the two readings of a row differ, and the tree's columns where they put a value in
    different columns (the tree's value stands in another geometric column, or the geometric one in
    another tree column): those are not sure. Text that differs in the same column (a cell the drawing
    runs into its neighbour) keeps the tree's reading."""
    if len(row.cells) == 1 or len(geo.cells) == 1:
        return key_of(row.text(vocabulary)) != key_of(geo.text(vocabulary)), []
    mine = [key_of(cell.text(vocabulary)) for cell in row.cells]
    theirs = [key_of(cell.text(vocabulary)) for cell in geo.cells]
    mapped = {g: col for col, g in columns.items()}
    differs = any(text and g not in mapped for g, text in enumerate(theirs))
    unsure = []
    for col, text in enumerate(mine):
        g = columns.get(col)
        other = theirs[g] if g is not None else ""
        if text == other:
            continue
        differs = True
        moved_here = bool(other) and any(other == t for c, t in enumerate(mine) if c != col)
        moved_away = bool(text) and any(text == t for h, t in enumerate(theirs) if h != g)
        if col > 0 and (moved_here or moved_away):
            unsure.append(col)
    return differs, unsure


def insert_table(tagged: TaggedTable, pages: dict[int, PageLike]) -> None:
    """The tree table as one Table item where its first row stands."""
    first = tagged.rows[0]
    table = Table(tagged.rows, [float(c) for c in range(len(tagged.header_keys))], first.top, tagged.rows[-1].bottom)
    page = pages[first.page]
    at = next((i for i, item in enumerate(page.items) if item.top > first.top), len(page.items))
    page.items.insert(at, table)
