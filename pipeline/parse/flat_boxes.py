"""Indicator tables in text flattened box by box (pdfminer.six's default extract_text, and the like).

Takes the blocks of a text that lost its table layout (parse_flat.split_blocks) in which the cells of
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
    002): the hard rules of parse_flat.place_values decide, as there;
  * names apart from values (one table in the region): the values, cut after each Period cell, give
    one stretch per name, and every stretch has one value per column;
  otherwise the row loads with its measures empty, the Period cell where a column block of exactly one
  Period per row gives it, flag `placement_uncertain`, and the region's value lines in raw_text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from pipeline.common.models import VALUE_COLUMNS, IndicatorRow, ReportMeta, TextLine
from pipeline.common.reference import LEADING_GLYPHS
from pipeline.parse.flat_rows import (
    FURNITURE_REACH,
    NUMBER_GROUPING_UNCERTAIN,
    PAGE_NUMBER,
    PLACEMENT_UNCERTAIN,
    UNIT_JOINER,
    Block,
    RowContext,
    about_people,
    current_goal_kind,
    is_activity_header,
    is_comment_head,
    is_goal_marker,
    is_header_start,
    is_unit,
    lines_near,
    page_furniture,
    place_values,
    resolve_thousands,
    split_blocks,
    split_name_and_values,
    table_of_contents,
    value_cells,
)
from pipeline.parse.goals import GoalTracker
from pipeline.parse.vocab import TableHeader, clean_cell, is_period_like, strip_glyphs

# A line at least this share of the document's prose width is prose, not a table cell.
PROSE_WIDTH_SHARE = 0.9
# The prose width is this quantile of the lengths of the document's longer lines.
PROSE_WIDTH_QUANTILE = 0.9
# Lines shorter than this do not measure the prose width (headings, page numbers, cells).
PROSE_MIN_CHARS = 20
# A document is read box by box when at least this many of its tables show names or header pieces
# out of row order.
BOX_ORDER_MIN_TABLES = 1

# A line this many characters short of the column width is full: a word may have been cut at its end.
FULL_LINE_SLACK = 1
# A running title or footer is at least this long; shorter lines near page numbers are table pieces.
TITLE_MIN_CHARS = 10

# The header words of an activity table, in boxes of their own.
_ACTIVITY_WORDS = re.compile(r"^\s*(?:Startdatum|Slutdatum|Avvikelse)\b")

# Status glyphs printed before an indicator's name (reference.LEADING_GLYPHS without the spaces).
NAME_GLYPHS = LEADING_GLYPHS.replace(" ", "").replace("\t", "").replace("\u00a0", "")

# A running title repeats one of the document's first lines (its cover); one after bare page numbers
# recurs on this many pages at least.
COVER_TITLE_LINES = 3
TITLE_MIN_PAGES = 4
_BARE_PAGE_NUMBER = re.compile(r"^\d{1,3}(?:\s*\(\s*\d{1,3}\s*\))?$")

# Canonical order of the value columns of an indicator table (GUIDE: every era prints them so).
COLUMN_ORDER = VALUE_COLUMNS

# The header labels of an indicator table with white space removed; a header piece is made of pieces
# of them ("årsmålkf:s", "årsmå", "ensutfall").
_HEADER_LABELS = (
    "indikator",
    "periodensutfall",
    "utfallmän/pojkar",
    "utfallkvinnor/flickor",
    "periodensutfallvb",
    "prognoshelår",
    "årsmål",
    "kf:sårsmål",
    "periodicitet",
)
# Shortest piece of a label taken for a header piece: "l" or "ns" alone could be the end of any word.
HEADER_PIECE_MIN_CHARS = 3
_LONGEST_LABEL = max(len(label) for label in _HEADER_LABELS)
_VB_YEAR = re.compile(r"vb((?:19|20)\d{2})")
_ASSESSMENT_LINE = re.compile(r"\b(?:uppfylls|uppfyllas|uppfyllt)\b", re.IGNORECASE)
# The rest of a cell or name cut off in its own box: "av nämnd", "s 2017", "n", "d.".
_FRAGMENT = re.compile(r"^[a-zåäö/%.][\w/.%-]*(?:\s+[\w/.%-]+){0,2}$")


def squash(text: str) -> str:
    """Header text with white space removed and the OCR-like 'Arsmål' read as 'årsmål'."""
    key = re.sub(r"\s+", "", text).lower()
    return re.sub(r"(?<![a-zåäö])arsmål", "årsmål", key)


def is_header_piece(text: str) -> bool:
    """A block made only of pieces of header labels, broken anywhere: 'Progno s helår', 'Årsmål KF:s',
    'ens utfall', 'Årsmå'. A bare year is a Period cell, 'VB 2021' a piece of a header."""
    key = re.sub(r"(?<=vb)(?:19|20)\d{2}", "", squash(text))
    return bool(key) and _pieces_of_labels(key)


def _in_label(piece: str) -> bool:
    return any(piece in label for label in _HEADER_LABELS)


def _pieces_of_labels(key: str) -> bool:
    """Whether `key` is a run of pieces of header labels. A piece is no longer than the longest label,
    so each end looks back that far only, and a stretch that long reached by no piece ends the search:
    linear in the length of the text (a paragraph is tested too, and must not cost its square)."""
    reachable = [True] + [False] * len(key)
    for end in range(1, len(key) + 1):
        first = max(0, end - _LONGEST_LABEL)
        if end > _LONGEST_LABEL and not any(reachable[first:end]):
            return False
        reachable[end] = any(
            reachable[start] and _in_label(key[start:end]) for start in range(first, end - HEADER_PIECE_MIN_CHARS + 1)
        )
    return reachable[-1]


def region_header(pieces: Sequence[str]) -> TableHeader:
    """The columns a region's header pieces name, in the printed order, and the previous-year label.

    Pieces come in any order and a word may be cut between two pieces, so the squashed text of all
    pieces is counted: each 'utfall' is a column, 'vb2016' marks one of them as last year's, 'män/'
    and 'kvinnor/' two as the gender parts; each 'årsmål' is a target, one per 'kf:s' the city's.
    """
    key = "".join(squash(p) for p in pieces)
    men = int("män/" in key or "pojk" in key)
    women = int("kvinn" in key or "flick" in key)
    years = _VB_YEAR.findall(key)
    previous = int(bool(years))
    outcome = int(key.count("utfa") - men - women - previous > 0)
    city = int("kf:s" in key)
    target = int(key.count("årsm") - key.count("kf:s") > 0)
    forecast = int("progn" in key or "helår" in key)
    period = int(len(re.findall(r"period(?!e)", key)) > 0)
    present = {
        "outcome": outcome,
        "outcome_men": men,
        "outcome_women": women,
        "previous_outcome": previous,
        "forecast": forecast,
        "target": target,
        "city_target": city,
        "period": period,
    }
    columns = tuple(c for c in COLUMN_ORDER if present[c])
    return TableHeader(columns, f"VB {years[0]}" if years else None)


# --- widths ----------------------------------------------------------------------------------


def prose_width(lines: Sequence[TextLine]) -> int:
    """The length of a full line of running text in this document."""
    lengths = sorted(len(ln.text.strip()) for ln in lines if len(ln.text.strip()) >= PROSE_MIN_CHARS)
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(len(lengths) * PROSE_WIDTH_QUANTILE))]


def is_prose(block: Block, width: int) -> bool:
    longest = max(len(ln.text.strip()) for ln in block.lines)
    return width > 0 and longest >= PROSE_WIDTH_SHARE * width


def join_cell_lines(texts: Sequence[str], width: int | None = None) -> str:
    """Join the lines of a name or cell printed in a narrow column.

    A word is broken inside only when it is longer than the column ("jämställdhetsan" / "alys"):
    a line with no space at its end joins the next without a space only if the word so made would
    not have fit on a line of the column. A unit after a number always keeps its space ("75,7" / "%").
    """
    stripped = [t.strip() for t in texts if t.strip()]
    if not stripped:
        return ""
    width = width or max(len(t) for t in stripped)
    joined = stripped[0]
    for raw, text in zip(texts[:-1], stripped[1:], strict=False):
        head = joined.split()[-1]
        tail = text.split()[0]
        line = raw.strip()
        broken = not raw[-1:].isspace() and len(line) >= width - FULL_LINE_SLACK and len(head) + len(tail) > width
        if broken and not head[-1:].isdigit() and tail[:1] != "%":
            joined += text
        else:
            joined += " " + text
    return clean_cell(joined)


# Words of value cells that a narrow column breaks anywhere ("nämnde" / "n", "livsmed" / "el").
_CELL_WORDS = (
    "nämnden",
    "nämnd",
    "styrelse",
    "fastställs",
    "livsmedel",
    "barn/avd.",
    "kwh/kvm",
    "tertial",
    "halvår",
)
_BROKEN_CELL_WORD = re.compile(
    "|".join(r"\b" + r"\s*".join(re.escape(ch) for ch in word) for word in _CELL_WORDS), re.IGNORECASE
)
_SLASH = re.compile(r"\s*/\s*(?=styrelse)", re.IGNORECASE)
# Units of several words: kept together as one word so that they stay one cell.
_UNIT_PHRASE = re.compile(r"\bkg\s+co2\s+per\s+kg\s+livsmedel\b", re.IGNORECASE)


def mend_value_text(text: str) -> str:
    """The text of value boxes with words broken by the column put together again."""
    text = _BROKEN_CELL_WORD.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text)
    text = _SLASH.sub("/", text)
    return _UNIT_PHRASE.sub(lambda m: UNIT_JOINER.join(m.group(0).split()), text)


def unzip_units(words: Sequence[str]) -> list[str]:
    """Two cells side by side, each wrapped before its unit, come out line by line: '73,18' '74,56'
    '%' '%' is '73,18 %' '74,56 %'. Numbers first, then as many units: paired in order."""
    half = len(words) // 2
    numbers, units = words[:half], words[half:]
    if half < 2 or len(words) % 2 or not all(re.fullmatch(r"[-−]?\d+(?:,\d+)?", w) for w in numbers):
        return []
    if not all(is_unit(u) and u == units[0] for u in units):
        return []
    return [w for pair in zip(numbers, units, strict=True) for w in pair]


# --- block kinds -----------------------------------------------------------------------------

HEADER_START = "header_start"
HEADER = "header"
VALUES = "values"
NAME = "name"
FRAGMENT = "fragment"
COMMENT = "comment"
END = "end"  # no table content: ends a region


@dataclass
class Item:
    kind: str
    block: Block
    cells: list[str] = field(default_factory=list)
    joinable: set[int] = field(default_factory=set)
    text: str = ""


def _block_lines(block: Block) -> list[str]:
    return [ln.text for ln in block.lines]


def classify(block: Block, width: int) -> Item:
    texts = _block_lines(block)
    first = texts[0].strip()
    if is_header_start(first):
        return Item(HEADER_START, block, text=" ".join(texts))
    if is_activity_header(first) or is_goal_marker(first):
        return Item(END, block)
    if _ACTIVITY_WORDS.match(" ".join(texts)):
        return Item(END, block)  # an activity table's header
    if is_comment_head(first):
        return Item(COMMENT, block, text=" ".join(t.strip() for t in texts))
    joined = join_cell_lines(texts)
    if is_header_piece(joined):
        return Item(HEADER, block, text=joined)
    mended = mend_value_text(" ".join(t.strip() for t in texts))
    run = value_cells(mended.split()) or value_cells(unzip_units(mended.split()))
    if run is not None:
        cells = [c.replace(UNIT_JOINER, " ") for c in run.cells]
        return Item(VALUES, block, cells=cells, joinable=run.joinable, text=mended.replace(UNIT_JOINER, " "))
    if _ASSESSMENT_LINE.search(first) or is_prose(block, width) or joined.endswith(":"):
        return Item(END, block)
    name, _ = strip_glyphs(joined)
    if re.search(r"\sska\s", f" {name} ") or re.search(r"[a-zåäö]{4}\.$", name):
        return Item(END, block)  # an activity ("Förvaltningen ska ...") or a sentence, never a name
    if name[:1].isupper() or name[:1] in "\"'”“":
        shared = _name_with_values(joined) if len(texts) == 1 else None
        if shared is not None:
            return shared_item(block, joined, shared)
        return Item(NAME, block, text=name)
    if _FRAGMENT.match(joined):
        return Item(FRAGMENT, block, text=joined)
    return Item(END, block)


# Words after which a name goes on: a number right after them is part of the name.
_NAME_GOES_ON = frozenset(
    {
        "under",
        "inom",
        "efter",
        "på",
        "i",
        "av",
        "med",
        "för",
        "om",
        "per",
        "till",
        "från",
        "än",
        "och",
        "eller",
        "senaste",
        "minst",
        "högst",
        "över",
        "mellan",
        "vid",
        "dag",
    }
)


def _name_with_values(joined: str) -> int | None:
    """A short name sharing its line with the values ('Andel flickor som besöker träffpunkterna 30 %')."""
    words = joined.split()
    for k in range(2, len(words)):
        run = value_cells(words[k:])
        if run is not None and any(re.match(r"^[-−+]?\d", c) for c in run.cells):
            # "... inom 48 timmar", "... under 14 dagar": a name does not end in such a word
            return None if words[k - 1].lower() in _NAME_GOES_ON else k
    return None


def shared_item(block: Block, joined: str, k: int) -> Item:
    words = joined.split()
    run = value_cells(words[k:])
    assert run is not None
    name, _ = strip_glyphs(" ".join(words[:k]))
    return Item(NAME, block, cells=run.cells, joinable=run.joinable, text=name)


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


def place_region(region: Region, table_no: int, tertial_report: bool, usual: tuple[str, ...] | None) -> list[PlacedRow]:
    header = region_header(_header_texts(region))
    with_period = "period" in header.columns
    measures = tuple(c for c in header.columns if c != "period")
    rows, continued = _name_rows(region)
    if header.columns == usual:
        find_cells(region, rows, continued, with_period, len(measures))
    placed = []
    for row in rows:
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


def document_header(regions: Sequence[Region]) -> tuple[str, ...] | None:
    """The columns most of the document's tables have: a region whose pieces say otherwise may have
    lost or mixed up a piece, so its values are not placed."""
    counts = Counter(region_header(_header_texts(r)).columns for r in regions)
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def box_rows(regions: Sequence[Region], meta: ReportMeta) -> list[IndicatorRow]:
    tertial_report = (meta.report_type or "").startswith("tertialrapport")
    usual = document_header(regions)
    out: list[IndicatorRow] = []
    table_no = 0
    for region in regions:
        for p in place_region(region, table_no + 1, tertial_report, usual):
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


def box_furniture(lines: Sequence[TextLine]) -> set[int]:
    """Page numbers, and the running titles that recur next to them.

    Unlike parse_flat.page_furniture, short lines are never furniture: in box order the top of every
    page holds the same short pieces of header ("Period") and name ("● Andel", "l") right after the
    running title.
    """
    furniture = {i for i in page_furniture(lines) if _is_furniture(lines[i].text.strip())}
    # A running title seen next to one page number only (a short report) is still the cover's title.
    texts = [ln.text.strip() for ln in lines]
    cover = set([t for t in texts if t][:COVER_TITLE_LINES])
    pages = [i for i, t in enumerate(texts) if PAGE_NUMBER.match(t)]
    furniture |= {j for i in pages for j in lines_near(texts, i) if texts[j] in cover and _is_furniture(texts[j])}
    # Page numbers printed bare ("3", "3 (22)") are told by the running title that follows them: a
    # line that recurs page after page, most often right after a bare number.
    seen: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if text and _is_furniture(text):
            seen.setdefault(text, []).append(i)
    for where in seen.values():
        numbers = [
            [j for j in lines_near(texts, i)[:FURNITURE_REACH] if _BARE_PAGE_NUMBER.match(texts[j])] for i in where
        ]
        if len(where) >= TITLE_MIN_PAGES and sum(bool(n) for n in numbers) * 2 >= len(where):
            furniture.update(where)
            furniture.update(j for n in numbers for j in n)
    return furniture


def _is_furniture(text: str) -> bool:
    if PAGE_NUMBER.match(text):
        return True
    if len(text) < TITLE_MIN_CHARS or re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return False  # a short piece of a table, or an activity's date
    return not (is_header_piece(text) or is_header_start(text) or value_cells(text.split()) is not None)


def split_names(blocks: Sequence[Block], width: int) -> list[Block]:
    """Names printed close together can come out as one box. A new name starts at its status glyph, or
    at a capital letter after a line that does not end in a space (a wrapped line does)."""
    out: list[Block] = []
    for block in _names_after_comments(blocks, width):
        texts = _block_lines(block)
        if (
            is_prose(block, width)
            or is_comment_head(texts[0])
            or not _starts_name(texts[0])
            or is_header_piece(join_cell_lines(texts))
        ):
            out.append(block)
            continue
        starts = [k for k in range(1, len(texts)) if _starts_name(texts[k]) and _name_ends(texts[k - 1], texts[k])]
        for a, b in zip([0, *starts], [*starts, len(texts)], strict=True):
            last = b == len(texts)
            out.append(Block(block.lines[a:b], block.blank_after if last else False, block.page_break_after and last))
    return out


def _names_after_comments(blocks: Sequence[Block], width: int) -> list[Block]:
    """A one-line comment row and the names under it can come out as one box: the names begin at a
    capital after a line with no trailing space, and are no prose (short lines, no full stop)."""

    def names_start(block: Block) -> int | None:
        texts = _block_lines(block)
        if not is_comment_head(texts[0]):
            return None
        return next(
            (
                k
                for k in range(1, len(texts))
                if _starts_name(texts[k])
                and not texts[k - 1][-1:].isspace()
                and not is_prose(Block(block.lines[k:]), width)
                and not texts[-1].rstrip().endswith(".")
            ),
            None,
        )

    return _cut_blocks(blocks, names_start)


def _cut_blocks(blocks: Sequence[Block], find_cut: Callable[[Block], int | None]) -> list[Block]:
    """Each block cut in two at the line find_cut names (None: left whole)."""
    out: list[Block] = []
    for block in blocks:
        cut = find_cut(block)
        if cut is None:
            out.append(block)
        else:
            out.append(Block(block.lines[:cut], blank_after=False))
            out.append(Block(block.lines[cut:], block.blank_after, block.page_break_after))
    return out


def _starts_name(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and (stripped[0] in NAME_GLYPHS or stripped[0].isupper())


def _name_ends(line: str, following: str) -> bool:
    return following.strip()[0] in NAME_GLYPHS or not line[-1:].isspace()


def split_header_from_values(blocks: Sequence[Block]) -> list[Block]:
    """A header cell and the value below it can come out as one box ("Periode" / "ns utfall VB 2023" /
    "12"): cut such a block where the header pieces end and the values begin."""

    def values_start(block: Block) -> int | None:
        texts = _block_lines(block)
        return next((k for k in range(1, len(texts)) if _header_then_values(texts[:k], texts[k:])), None)

    return _cut_blocks(blocks, values_start)


def _header_then_values(head: Sequence[str], tail: Sequence[str]) -> bool:
    header = join_cell_lines(head)
    if not is_header_piece(header) or squash(header).endswith("vb") or squash(tail[0]).startswith("vb"):
        return False  # "VB 2016" under "Periodens utfall" is the previous-year column's, not a Period cell
    return value_cells(mend_value_text(" ".join(t.strip() for t in tail)).split()) is not None


def read_boxes(lines: Sequence[TextLine]) -> BoxReading:
    width = prose_width(lines)
    blocks = split_blocks(lines, box_furniture(lines), table_of_contents(lines))
    blocks = split_header_from_values(split_names(blocks, width))
    goals = GoalTracker()
    regions = find_regions(blocks, width, goals)
    box = sum(out_of_row_order(r) for r in regions) >= BOX_ORDER_MIN_TABLES
    return BoxReading(regions, goals, box)
