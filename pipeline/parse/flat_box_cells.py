"""The rows of a box-order table region: which value cells are each name's own, and the rows placed.

A name's values are placed only where the structure of the region leaves no doubt (find_cells,
place_region); the other rows load with their measures empty and a flag. box_rows gives the
IndicatorRows of all the regions of a document.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from pipeline.common.models import VALUE_COLUMNS, IndicatorRow, ReportMeta
from pipeline.parse.flat_box_blocks import (
    COMMENT,
    FRAGMENT,
    HEADER,
    HEADER_START,
    NAME,
    VALUES,
    Item,
    _block_lines,
    region_header,
)
from pipeline.parse.flat_boxes import Region
from pipeline.parse.flat_placement import RowContext, about_people, place_values
from pipeline.parse.flat_vocab import NUMBER_GROUPING_UNCERTAIN, PLACEMENT_UNCERTAIN, UNKNOWN_COLUMN, resolve_thousands
from pipeline.parse.vocab import TableHeader, clean_cell, is_period_like, strip_glyphs

# --- rows of a region ------------------------------------------------------------------------


@dataclass
class BoxRow:
    """One name of a region with the value cells that are its own, when the structure shows them."""

    item: Item
    name: str
    lines: list[str]
    comment: str | None = None
    cells: list[str] | None = None  # None: which values are its own is not known
    joinable: set[int] = field(default_factory=set)
    period: str = ""
    value_lines: list[str] = field(default_factory=list)


@dataclass
class Cell:
    text: str
    item: int  # index of the region item it came from
    joinable: bool = False  # it and the next cell may be one number with a thousands space


def _is_unfinished(cell: str) -> bool:
    """'Tas fram' waits for 'av nämnd', 'Fastställ' for 's 2017', 'nämnde' for 'n'."""
    low = cell.lower()
    if low.startswith("tas"):
        return not re.search(r"(?:nämnd(?:en)?|styrelse)$", low)
    return low.startswith("fastst") and not re.search(r"(?:19|20)\d{2}$", low)


def _attach(cell: str, fragment: str) -> str:
    last, first = cell.split()[-1], fragment.split()[0]
    whole = (last + first).lower()
    joined = whole.startswith(("nämnd", "fastställs", "styrels")) or len(first) <= 2
    return f"{cell}{fragment}" if joined and not first.startswith("/") or last.endswith("/") else f"{cell} {fragment}"


def _name_rows(region: Region) -> tuple[list[BoxRow], set[int]]:
    """The region's names; a lower-case piece right after a name is the rest of it."""
    rows: list[BoxRow] = []
    continued: set[int] = set()
    last: BoxRow | None = None
    for index, item in enumerate(region.items):
        if item.kind == NAME:
            last = BoxRow(item, item.text, _block_lines(item.block))
            rows.append(last)
        elif item.kind == FRAGMENT and last is not None and index > 0 and region.items[index - 1] is last.item:
            last.name = f"{last.name} {item.text}"
            last.lines += _block_lines(item.block)
            continued.add(index)
        elif item.kind == COMMENT and last is not None:
            text = clean_cell(re.sub(r"^(?:Kommentar|Analys)[:.]?\s*", "", item.text, flags=re.IGNORECASE))
            last.comment = f"{last.comment} {text}" if last.comment else text
    return rows, continued


def _cells_of(items: Sequence[Item], indexes: Sequence[int]) -> tuple[list[Cell], bool]:
    """Value cells of some of a region's items in order; False if a piece of a text cell is left over."""
    cells: list[Cell] = []
    whole = True
    for index in indexes:
        item = items[index]
        if item.kind == FRAGMENT:
            target = next((c for c in reversed(cells) if _is_unfinished(c.text)), None)
            if target is None:
                whole = False
            else:
                target.text = _attach(target.text, item.text)
            continue
        for k, text in enumerate(item.cells):
            previous = cells[-1].text if cells else ""
            if _waits_for_year(previous) and _is_year(text):
                cells[-1].text += f" {text}"  # 'fastställs' / '2017', 'Tertial 1' / '2022' in boxes of their own
                continue
            cells.append(Cell(text, index, k in item.joinable))
    return cells, whole


def _waits_for_year(cell: str) -> bool:
    return bool(re.fullmatch(r"(?:fastställs|vb|(?:tertial|halvår|kvartal)\s+\d)", cell.strip().lower()))


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d{2}", text))


def _stretch_after(items: Sequence[Item], at: int, skip: set[int]) -> list[int] | None:
    """The value items that follow the name at items[at] up to its Period cell, if they stand alone.

    Header pieces may come between the name and its values. The name must not follow values whose
    Period cell has not come (they could be its own), and no value may follow its Period cell before
    the next name, header or comment (it could be its own too).
    """
    back = at - 1
    while back >= 0 and (items[back].kind in (HEADER, HEADER_START) or back in skip):
        back -= 1
    if back >= 0 and items[back].kind == NAME and not items[back].cells:
        return None  # names one after another: the values that follow may be the first one's
    if back >= 0 and items[back].kind in (VALUES, FRAGMENT):
        before = [c for c in items[back].cells if c] or [""]
        if not is_period_like(before[-1]):
            return None
    taken: list[int] = []
    j = at + 1
    while j < len(items) and (items[j].kind in (HEADER, HEADER_START) or j in skip) and not taken:
        j += 1
    while j < len(items) and items[j].kind in (VALUES, FRAGMENT):
        taken.append(j)
        j += 1
    return taken


def _row_ordered(region: Region, row: BoxRow, at: int, skip: set[int], with_period: bool) -> bool:
    """The row's name followed by its own values, ending in its Period cell, as in sample 002."""
    items = region.items
    taken = _stretch_after(items, at, skip)
    if taken is None:
        return False
    own = [Cell(t, at, k in row.item.joinable) for k, t in enumerate(row.item.cells)]
    cells, whole = _cells_of(items, taken)
    cells = own + cells
    if not whole or not cells:
        return False
    periods = [c for c in cells if is_period_like(c.text)]
    if with_period and (len(periods) != 1 or not is_period_like(cells[-1].text)):
        return False
    _set_cells(row, cells, with_period, region)
    if not boxes_in_order(cells):
        row.cells = None  # its values, but not in which order: only its Period cell is certain
        return False
    return True


def boxes_in_order(cells: Sequence[Cell]) -> bool:
    """Whether the boxes of one row's values can only have come out left to right.

    A box of several cells holds neighbouring columns on one line, in order, but the boxes of one row
    can come out in another order ("43,6 % 48,1 % 47 % 39 %" before the "43,3 %" left of them). So:
    all values in one box (the Period cell may follow in its own), or every cell a box of its own (no
    such row of the corpora came out of order).
    """
    sizes = [len(list(group)) for _, group in groupby(cells, key=lambda c: c.item)]
    return len(sizes) == 1 or (len(sizes) == 2 and sizes[1] == 1) or all(size == 1 for size in sizes)


def _set_cells(row: BoxRow, cells: Sequence[Cell], with_period: bool, region: Region) -> None:
    first, last = min(c.item for c in cells), max(c.item for c in cells)
    row.value_lines = [  # with the pieces of text cells joined to them
        t
        for it in region.items[first : last + 1]
        if it.kind in (VALUES, FRAGMENT) or (it.kind == NAME and it.cells)
        for t in _block_lines(it.block)
        if it is not row.item
    ]
    if with_period:
        row.period = cells[-1].text
        cells = cells[:-1]
    row.cells = [c.text for c in cells]
    row.joinable = {k for k, c in enumerate(cells) if c.joinable}


def segments(region: Region) -> list[list[int]]:
    """The region cut where the flow of boxes starts again: after a comment row (it spans the table),
    at a page break, and at an 'Indikator' block (with the names that open the page before it)."""
    out: list[list[int]] = [[]]
    for index, item in enumerate(region.items):
        current = out[-1]
        if item.kind == HEADER_START and current:
            if all(region.items[k].kind == NAME for k in current):
                current.append(index)  # names at the top of a page, then the header
                continue
            out.append([index])
        else:
            current.append(index)
        if item.kind == COMMENT or item.block.page_break_after:
            out.append([])
    return [s for s in out if s]


def _names_apart(region: Region, rows: Sequence[BoxRow], segment: Sequence[int], measures: int) -> bool:
    """Names apart from their values in one segment of one table: the values, cut after each Period
    cell, give one stretch per name, in order, and every stretch has one value per column (so none
    can hold another row's value)."""
    items = region.items
    if sum(items[k].kind == HEADER_START for k in segment) > 1 or any(r.item.cells for r in rows):
        return False
    cells, whole = _cells_of(items, [k for k in segment if items[k].kind in (VALUES, FRAGMENT)])
    if not whole or not cells or not is_period_like(cells[-1].text):
        return False
    stretches: list[list[Cell]] = [[]]
    for cell in cells:
        stretches[-1].append(cell)
        if is_period_like(cell.text):
            stretches.append([])
    stretches.pop()
    if len(stretches) != len(rows) or any(len(s) != measures + 1 or not boxes_in_order(s) for s in stretches):
        return False
    for row, stretch in zip(rows, stretches, strict=True):
        _set_cells(row, stretch, True, region)
    return True


def _period_block(region: Region, rows: Sequence[BoxRow], segment: Sequence[int]) -> list[str] | None:
    """The Period cells of a segment when they come as one column block, exactly one per row."""
    cells, _ = _cells_of(region.items, [k for k in segment if region.items[k].kind in (VALUES, FRAGMENT)])
    flags = [is_period_like(c.text) for c in cells]
    periods = [c.text for c, f in zip(cells, flags, strict=True) if f]
    if not periods or len(periods) != len(rows):
        return None
    first = flags.index(True)
    return periods if all(flags[first : first + len(periods)]) else None


# --- placing ---------------------------------------------------------------------------------


@dataclass
class PlacedRow:
    row: BoxRow
    header: TableHeader
    table_no: int
    cells: dict[str, str]
    flag: str | None
    raw_text: str


def find_cells(region: Region, rows: Sequence[BoxRow], continued: set[int], with_period: bool, measures: int) -> None:
    """Give each row the value cells that are certainly its own, where the structure shows them."""
    at = {id(item): k for k, item in enumerate(region.items)}
    for row in rows:
        _row_ordered(region, row, at[id(row.item)], continued, with_period)
    for segment in segments(region):
        inside = set(segment)
        seg_rows = [r for r in rows if at[id(r.item)] in inside]
        for row in seg_rows:
            if row.cells is None:  # for a person checking the flag: the values it may have
                row.value_lines = [
                    t
                    for k in segment
                    if region.items[k].kind in (VALUES, FRAGMENT)
                    for t in _block_lines(region.items[k].block)
                ]
        if not with_period or not seg_rows or any(r.cells is not None for r in seg_rows):
            continue
        if not _names_apart(region, seg_rows, segment, measures):
            for row, period in zip(seg_rows, _period_block(region, seg_rows, segment) or [], strict=False):
                row.period = period


def _header_texts(region: Region) -> list[str]:
    return [it.text for it in region.items if it.kind in (HEADER, HEADER_START)]


def place_region(
    region: Region, table_no: int, tertial_report: bool, usual: tuple[str | None, ...] | None, meta: ReportMeta
) -> list[PlacedRow]:
    header = region_header(_header_texts(region), meta.year or 0, meta.tertial)
    with_period = "period" in header.columns
    measures = tuple(c for c in header.columns if c != "period")
    rows, continued = _name_rows(region)
    if header.columns == usual:
        find_cells(region, rows, continued, with_period, len(measures))
    placed = []
    for row in rows:
        if None in header.columns:  # a dated column of another year: no value is placed
            raw = "\n".join(row.lines + row.value_lines)
            placed.append(PlacedRow(row, header, table_no, {"period": row.period}, UNKNOWN_COLUMN, raw))
            continue
        if row.cells is None:
            raw = "\n".join(row.lines + row.value_lines)
            placed.append(PlacedRow(row, header, table_no, {"period": row.period}, PLACEMENT_UNCERTAIN, raw))
            continue
        values, undecided = resolve_thousands(row.cells, row.joinable)
        ctx = RowContext(
            annual=_is_year(row.period),
            tertial_report=tertial_report,
            goal_kind=region.goal_kind,
            about_people=about_people(row.name),
            marked=False,
            comment=row.comment or "",
            table_columns=None,
        )
        placement = place_values(values, measures, ctx)
        flag = NUMBER_GROUPING_UNCERTAIN if undecided else placement.flag
        cells = dict(placement.cells) if flag is None else {}
        cells["period"] = row.period
        raw = "\n".join(row.lines + row.value_lines)
        placed.append(PlacedRow(row, header, table_no, cells, flag, raw))
    return placed


def document_header(regions: Sequence[Region], meta: ReportMeta) -> tuple[str | None, ...] | None:
    """The columns most of the document's tables have: a region whose pieces say otherwise may have
    lost or mixed up a piece, so its values are not placed."""
    counts = Counter(region_header(_header_texts(r), meta.year or 0, meta.tertial).columns for r in regions)
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def box_rows(regions: Sequence[Region], meta: ReportMeta) -> list[IndicatorRow]:
    tertial_report = (meta.report_type or "").startswith("tertialrapport")
    usual = document_header(regions, meta)
    out: list[IndicatorRow] = []
    table_no = 0
    for region in regions:
        for p in place_region(region, table_no + 1, tertial_report, usual, meta):
            cells = {col: "" for col in VALUE_COLUMNS}
            cells.update(p.cells)
            first = p.row.item.block.lines[0]
            _, by_gender = strip_glyphs(first.text)
            out.append(
                IndicatorRow(
                    table_no=p.table_no,
                    row_no=len(out) + 1,
                    indicator_as_printed=p.row.name,
                    cells=cells,
                    previous_label=p.header.previous_label,
                    goal_ref=region.goal_ref,
                    by_gender=by_gender,
                    comment=p.row.comment,
                    source_page=first.page,
                    source_line=first.line_no,
                    quality_flag=p.flag,
                    raw_text=p.raw_text,
                )
            )
        table_no += max(region.tables, 1)
    return out
