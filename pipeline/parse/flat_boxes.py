"""Indicator tables in text flattened box by box (pdfminer.six's default extract_text, and the like).

Takes the blocks of a text that lost its table layout (flat_vocab.split_blocks) in which the cells of
a table do not come out row by row: the whole name column often comes first, then the header cells,
then the values, by column or by part of a column; header words break anywhere ("Progno" / "s helår",
"Årsmå" / "l"); a value and its unit can be on lines of their own ("75,7" / "%"); neighbouring cells
can share a line; empty cells leave no trace. Gives one IndicatorRow per name found, its values placed
only where the structure leaves no doubt, and the goals.

How it reads:
- a table region is a run of table blocks (header pieces, names, values, comments, with page breaks
  inside) around an "Indikator" block; prose, goal headings, activity tables end it    -> find_regions
- the header is what the region's header pieces say with the white space removed, counted against
  the known columns; they stand in the printed order of the columns                     -> region_header
- names are the name-like blocks of the region, wherever the values are; a line longer than the
  document's prose lines is no name                                                   -> measure_widths
- values are placed only when the structure leaves no doubt                            -> place_region:
  * row-ordered: every name followed by its own values, ending with the Period cell (as sample
    002): the hard rules of flat_placement.place_values decide, as there;
  * names apart from values (one table in the region): the values, cut after each Period cell, give
    one stretch per name, and every stretch has one value per column;
  otherwise the row loads with its measures empty, the Period cell where a column block of exactly one
  Period per row gives it, flag `placement_uncertain`, and the region's value lines in raw_text.

The blocks and their kinds are read in flat_box_blocks.py, the values of a region placed in
flat_box_cells.py (box_rows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.common.models import TextLine
from pipeline.parse.flat_box_blocks import (
    COMMENT,
    END,
    HEADER,
    HEADER_START,
    NAME,
    VALUES,
    Item,
    _block_lines,
    box_furniture,
    classify,
    is_prose,
    join_cell_lines,
    prose_width,
    split_header_from_values,
    split_names,
)
from pipeline.parse.flat_vocab import (
    Block,
    current_goal_kind,
    is_activity_header,
    split_blocks,
    split_name_and_values,
    table_of_contents,
)
from pipeline.parse.goals import GoalTracker
from pipeline.parse.vocab import strip_glyphs

# A document is read box by box when at least this many of its tables show names or header pieces
# out of row order.
BOX_ORDER_MIN_TABLES = 1


# --- regions ---------------------------------------------------------------------------------


@dataclass
class Region:
    """The blocks of one stretch of table content, and the goal it stands under."""

    items: list[Item]
    goal_ref: str | None
    goal_kind: str | None

    @property
    def tables(self) -> int:
        return sum(it.kind == HEADER_START for it in self.items)

    @property
    def names(self) -> list[Item]:
        return [it for it in self.items if it.kind == NAME]


def find_regions(blocks: Sequence[Block], width: int, goals: GoalTracker) -> list[Region]:
    """Runs of table blocks that hold an 'Indikator' block; the goals are fed everything else."""
    items = _year_of_previous_column([classify(b, width) for b in blocks])
    regions: list[Region] = []
    i = 0
    while i < len(items):
        if items[i].kind == END or not _run_has_table(items, i):
            _feed_goals(goals, items[i].block)
            i += 1
            continue
        j = i
        while j < len(items) and items[j].kind != END:
            j += 1
        run = _drop_trailing_headings(items, i, j, width)
        start = _table_start(items, i, blocks[i - 1] if i > 0 else None)
        for k in range(i, start):
            _feed_goals(goals, items[k].block)
        i = start
        goals.table_seen()
        regions.append(Region(rejoin_names(items[i:run]), goals.current_ref(), current_goal_kind(goals)))
        i = run
    return regions


def _year_of_previous_column(items: list[Item]) -> list[Item]:
    """'VB 2016' right after header pieces, in a box of its own, ends 'Periodens utfall VB 2016'."""
    for before, item in zip(items, items[1:], strict=False):
        if item.kind == VALUES and before.kind in (HEADER, HEADER_START) and re.fullmatch(r"VB \d{4}", item.text):
            item.kind, item.cells = HEADER, []
    return items


def rejoin_names(items: list[Item]) -> list[Item]:
    """Join the lines of each name again with the width of the table's name column, measured as the
    longest line of its names: only a full line can end inside a word."""
    names = [it for it in items if it.kind == NAME and not it.cells]
    width = max((len(ln.text.strip()) for it in names for ln in it.block.lines), default=0)
    for item in names:
        item.text, _ = strip_glyphs(join_cell_lines(_block_lines(item.block), width))
    return items


def _run_has_table(items: Sequence[Item], i: int) -> bool:
    j = i
    while j < len(items) and items[j].kind != END:
        if items[j].kind == HEADER_START:
            return True
        j += 1
    return False


def _table_start(items: Sequence[Item], i: int, before: Block | None) -> int:
    """Where the table of the run from items[i] begins.

    Names before the 'Indikator' block belong to the table when the table's other cells come before
    it too, or when they open a page (the name column's box came out before the header's). Otherwise
    they are text above the table ("Förväntat resultat" and what is expected).
    """
    start = next(k for k in range(i, len(items)) if items[k].kind == HEADER_START)
    comments = [k for k in range(i, start) if items[k].kind == COMMENT]
    if comments and not any(items[k].kind in (VALUES, HEADER) for k in range(i, comments[-1])):
        i, before = comments[-1] + 1, items[comments[-1]].block  # the comment of an activity above
    leading = [it.kind for it in items[i:start]]
    if any(k in (VALUES, HEADER) for k in leading) or (before is not None and before.page_break_after):
        return i
    return start


def _drop_trailing_headings(items: Sequence[Item], start: int, end: int, width: int) -> int:
    """Where the region of items[start:end] ends: short lines after its last comment with nothing
    after them but prose are headings below the table ("Uppföljning av ekonomi"), not names."""
    comments = [k for k in range(start, end) if items[k].kind == COMMENT]
    if end >= len(items) or not comments or not is_prose(items[end].block, width):
        return end
    after = items[comments[-1] + 1 : end]
    if after and all(it.kind == NAME and not it.cells for it in after):
        return comments[-1] + 1
    return end


def _feed_goals(goals: GoalTracker, block: Block) -> None:
    lines, i = block.lines, 0
    if is_activity_header(block.first):
        goals.table_seen()
    while i < len(lines):
        if goals.expecting:
            j = i
            while j + 1 < len(lines) and lines[j].text[-1:].isspace():
                j += 1
            title = " ".join(ln.text.strip() for ln in lines[i : j + 1])
            goals.feed(TextLine(lines[i].page, lines[i].line_no, title))
            i = j + 1
            continue
        goals.feed(lines[i])
        i += 1


# --- which reader ----------------------------------------------------------------------------


def out_of_row_order(region: Region) -> bool:
    """Signs of box order: a name right after a name that has no values, or header pieces before the
    'Indikator' block or right after a name or values."""
    items = [it for it in region.items if it.kind != COMMENT]
    kinds = [it.kind for it in items]
    first_start = kinds.index(HEADER_START) if HEADER_START in kinds else 0
    if HEADER in kinds[:first_start]:
        return True
    for a, b in zip(items, items[1:], strict=False):
        if a.kind == NAME and b.kind == NAME and split_name_and_values(a.block)[1] is None:
            return True
        if a.kind in (NAME, VALUES) and b.kind == HEADER:
            return True
    return False


@dataclass
class BoxReading:
    regions: list[Region]
    goals: GoalTracker
    box_order: bool


def read_boxes(lines: Sequence[TextLine]) -> BoxReading:
    width = prose_width(lines)
    blocks = split_blocks(lines, box_furniture(lines), table_of_contents(lines))
    blocks = split_header_from_values(split_names(blocks, width))
    goals = GoalTracker()
    regions = find_regions(blocks, width, goals)
    box = sum(out_of_row_order(r) for r in regions) >= BOX_ORDER_MIN_TABLES
    return BoxReading(regions, goals, box)
