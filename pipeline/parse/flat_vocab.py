"""The words, lines and cells of report texts that lost their table layout, read alike by the row
reader (flat_rows.py) and the box reader (flat_boxes.py).

Holds the quality flags, the page furniture and table of contents left out of the text, the blocks of
lines between blank lines (Block, split_blocks), the header of an indicator table pieced together from
its blocks (read_header), the value cells (number words, units, text cells, the thousands space:
value_cells, split_name_and_values, parse_number, resolve_thousands) and the goal kind of a table.

Flags (IndicatorRow.quality_flag; one code per row, the first that applies in this order). A flagged
row keeps all its source lines in raw_text:
- too_many_values            more values than the table has columns; values left out of the cells
- placement_inconsistent     no placement passes the hard rules (e.g. gender parts that do not fit the
                             total); best reading placed
- number_grouping_uncertain  "1 500" could be one number or two cells and nothing in the row settles
                             it; read as two cells
- period_missing             the row's values did not end with a Period cell
- name_fragment              the start of the row's name is not in the text (lost at a page break)
- placement_uncertain        fewer values than columns and more than one placement fits; best reading
                             placed
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.common.models import TextLine
from pipeline.common.numbers import TOKEN_DIGITS
from pipeline.common.page_numbers import BARE_PAGE_NUMBER, WORDED_PAGE_NUMBER
from pipeline.common.reference import KNOWN_UNITS
from pipeline.parse.goals import GoalTracker, is_goal_marker
from pipeline.parse.vocab import TableHeader, clean_cell, header_columns, is_period_like

# --- flags -----------------------------------------------------------------------------------

TOO_MANY_VALUES = "too_many_values"
PLACEMENT_INCONSISTENT = "placement_inconsistent"
NUMBER_GROUPING_UNCERTAIN = "number_grouping_uncertain"
PERIOD_MISSING = "period_missing"
NAME_FRAGMENT = "name_fragment"
PLACEMENT_UNCERTAIN = "placement_uncertain"
UNKNOWN_COLUMN = "unknown_column"
FLAG_PRECEDENCE: tuple[str, ...] = (
    UNKNOWN_COLUMN,
    TOO_MANY_VALUES,
    PLACEMENT_INCONSISTENT,
    NUMBER_GROUPING_UNCERTAIN,
    PERIOD_MISSING,
    NAME_FRAGMENT,
    PLACEMENT_UNCERTAIN,
)

# --- layout constants ------------------------------------------------------------------------

# A header needs at least this many recognised value columns to be an indicator table.
MIN_HEADER_COLUMNS = 2
# Lines near a page number that recur next to this many page numbers are page furniture.
FURNITURE_MIN_PAGES = 2
# How many non-blank lines before and after a page number can be furniture.
FURNITURE_REACH = 2
# "822 700" is read as one number only when another number in the row is within this factor of it.
THOUSANDS_MAGNITUDE = 30
# A table of contents entry may wrap over this many lines before its page number.
TOC_MAX_WRAPPED_LINES = 1

# --- line patterns ---------------------------------------------------------------------------

_TOC_HEAD = re.compile(r"^Innehåll(?:sförteckning)?$", re.IGNORECASE)
_TOC_ENTRY = re.compile(r"^\S.*?(?:\.{2,}|\s)\s*\d{1,3}$")
_ACTIVITY_HEADER = re.compile(r"^Aktivitet(?:\s+(?:Startdatum|Slutdatum|Avvikelse)\b.*)?$")
_COMMENT_HEAD = re.compile(r"^(?:Kommentar|Analys)(?=$|[\s:.])[:.]?\s*", re.IGNORECASE)

# Header words, each a piece of one of these; a header column starts at a capitalised keyword.
_HEADER_VOCABULARY = (
    "indikator",
    "periodens",
    "utfall",
    "män/",
    "pojkar",
    "kvinnor/",
    "flickor",
    "vb",
    "prognos",
    "helår",
    "årsmål",
    "arsmål",
    "kf:s",
    "kf-mål",
    "periodicitet",
    "tertial",
)
_HEADER_COLUMN_START = re.compile(r"(?=Periodens|Utfall|Prognos|Årsmål|Arsmål|KF:s|KF-|Period(?!ens))")
# A date at the end of a squashed header piece: "UtfallT12017", "Utfalltertial12017", "Årsmål2017".
_SQUASHED_DATE = re.compile(r"(?:(T|tertial)([123]))?((?:19|20)\d{2})$", re.IGNORECASE)
_HEADER_LAST_WORD = re.compile(r"Period(?:icitet)?$")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")

# --- value cells -----------------------------------------------------------------------------

_NUMBER_WORD = re.compile(rf"^(?:\+/-|±)?[-+−]?{TOKEN_DIGITS}$")
_DASHES = frozenset({"-", "–", "—"})
_PLUS_MINUS = frozenset({"+/-", "±"})
_PERIOD_WORDS = frozenset({"tertial", "halvår", "kvartal", "månad", "vb", "år"})
_PERIOD_NUMBER = re.compile(r"^[1-4]$")
_COUNCIL_WORDS = re.compile(r"^(?:fram|av|nämnd\S*|styrels\S*|/\S*)$", re.IGNORECASE)
_GOAL_WORDS = frozenset({"öka", "minska", "bibehålla", "oförändrat", "ökning", "minskning"})
_LIMIT_WORDS = frozenset({"max", "min", "minst", "högst", "lägst"})
# Words of cells that say there is no value ("Mäts ej", "Ny indikator", "Uppgift saknas").
_NO_VALUE_WORDS = frozenset(
    {"ej", "saknas", "uppgift", "mäts", "mätt", "ingen", "mätning", "ny", "nytt", "indikator", "aktuellt"}
)
_EXTRA_UNITS = frozenset({"gwh", "mwh", "mkr", "st.", "kr/st"})
# Joins the words of a unit of several words ("kg CO2 per kg livsmedel") into one word.
UNIT_JOINER = "\u2060"
_NUMERIC_CELL = re.compile(
    r"^(?P<sign>[-−+])?(?P<int>\d+(?:[ \u00a0]\d{3})*)(?:,(?P<dec>\d+))?\s*(?P<unit>%|[^\d\s].*)?$"
)
_PLAIN_SMALL_INT = re.compile(r"^[1-9]\d{0,2}$")
_THOUSANDS_GROUP = re.compile(r"^(?P<group>\d{3})(?:,\d+)?(?:\s|%|$)")


# --- lines and blocks ------------------------------------------------------------------------


def _is_blank(text: str) -> bool:
    return not text.strip()


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


def is_header_start(text: str) -> bool:
    """'Indikator Periodens' or 'Indikator' alone: the first line of an indicator table header."""
    words = text.split()
    return bool(words) and words[0] == "Indikator" and _all_header_pieces(words[1:])


def is_activity_header(text: str) -> bool:
    return bool(_ACTIVITY_HEADER.match(text.strip()))


def is_comment_head(text: str) -> bool:
    """'Analys' or 'Kommentar' (alone or before the comment), not 'Analysen visar ...'."""
    return bool(_COMMENT_HEAD.match(text.strip()))


def _starts_block(text: str) -> bool:
    """Lines that begin a block even without a blank line before them."""
    return is_header_start(text) or is_activity_header(text) or is_goal_marker(text) or is_comment_head(text)


def _is_header_piece(word: str, previous: str = "") -> bool:
    """A word of a header: a piece of a header word, a year, "T1", or the 1 of "tertial 1"."""
    low = word.lower()
    if re.fullmatch(r"t[123]", low) or (low in ("1", "2", "3") and previous.lower() == "tertial"):
        return True
    return bool(_YEAR.match(low)) or any(low in vocab for vocab in _HEADER_VOCABULARY)


def _all_header_pieces(words: Sequence[str]) -> bool:
    return all(_is_header_piece(w, words[i - 1] if i else "") for i, w in enumerate(words))


def join_wrapped(texts: Sequence[str]) -> str:
    """Join the lines of one cell or name.

    A line that ends in a space wrapped at a space; one that does not was broken inside a word, so
    the next line goes on without a space ("nämnd" + "en", "barn/a" + "vd.").
    """
    joined = ""
    for text in texts:
        if not joined:
            joined = text.lstrip()
        elif joined[-1:].isspace():
            joined += text.lstrip()
        else:
            joined += text  # a leading space on the next line still separates the words
    return clean_cell(joined)


def page_furniture(lines: Sequence[TextLine]) -> set[int]:
    """Indexes of page numbers ("Sid 18 (84)") and of the lines that recur around them (titles, site)."""
    texts = [ln.text.strip() for ln in lines]
    pages = [i for i, t in enumerate(texts) if WORDED_PAGE_NUMBER.match(t)]
    around: Counter[str] = Counter()
    for i in pages:
        around.update({texts[j] for j in lines_near(texts, i)})
    furniture_texts = {t for t, n in around.items() if n >= FURNITURE_MIN_PAGES and not _is_structural(t)}
    # A running title also stands alone where its page number was lost: every copy of it goes.
    return set(pages) | {i for i, t in enumerate(texts) if t in furniture_texts}


def lines_near(texts: Sequence[str], i: int) -> list[int]:
    found = []
    for step in (-1, 1):
        j, taken = i + step, 0
        while 0 <= j < len(texts) and taken < FURNITURE_REACH:
            if texts[j]:
                found.append(j)
                taken += 1
            j += step
    return found


def _is_structural(text: str) -> bool:
    """Lines that must never be taken for page furniture: headers, goal markers, values."""
    return not text or _starts_block(text) or value_cells(text.split()) is not None


def table_of_contents(lines: Sequence[TextLine]) -> set[int]:
    """Indexes of the lines of a table of contents: its heading and entries ending in a page number."""
    skip: set[int] = set()
    for head, line in enumerate(lines):
        if not _TOC_HEAD.match(line.text.strip()):
            continue
        skip.add(head)
        wrapped: list[int] = []
        for j in range(head + 1, len(lines)):
            text = lines[j].text.strip()
            if not text:
                continue
            if _TOC_ENTRY.match(text) or BARE_PAGE_NUMBER.match(text):
                skip.update(wrapped + [j])
                wrapped = []
            elif len(wrapped) < TOC_MAX_WRAPPED_LINES:
                wrapped.append(j)
            else:
                break
    return skip


@dataclass
class Block:
    """Lines between blank lines (or before a line that always starts a block)."""

    lines: list[TextLine]
    blank_after: bool = True  # False: cut by a header, marker or comment line right below
    page_break_after: bool = False  # page furniture was dropped right below

    @property
    def first(self) -> str:
        return self.lines[0].text

    def joined(self) -> str:
        return join_wrapped([ln.text for ln in self.lines])


def split_blocks(lines: Sequence[TextLine], furniture: set[int], toc: set[int]) -> list[Block]:
    blocks: list[Block] = []
    current: list[TextLine] = []

    def close(blank_after: bool) -> None:
        nonlocal current
        if current:
            blocks.append(Block(current, blank_after=blank_after))
            current = []

    for index, line in enumerate(lines):
        if index in furniture or index in toc:
            close(blank_after=True)
            if index in furniture and blocks:
                blocks[-1].page_break_after = True
            continue
        if _is_blank(line.text):
            close(blank_after=True)
            continue
        if current and _starts_block(line.text):
            close(blank_after=False)
        current.append(line)
    close(blank_after=True)
    return blocks


# --- header ----------------------------------------------------------------------------------


def space_date(piece: str) -> str:
    """'UtfallT12017' -> 'Utfall T 1 2017': the year and tertial of a squashed header piece apart again,
    so that they are judged against the report's (vocab.header_columns)."""
    m = _SQUASHED_DATE.search(piece)
    if m is None:
        return piece
    part = f" {m.group(1)} {m.group(2)}" if m.group(1) else ""
    return f"{piece[: m.start()]}{part} {m.group(3)}"


def read_header(
    blocks: Sequence[Block], start: int, report_year: int | None = None, report_tertial: int | None = None
) -> tuple[TableHeader, int] | None:
    """The header beginning at blocks[start] and the index of the first block after it, or None. With
    the report's year (0 when unknown) and tertial, a dated header cell is judged as in a table with
    its layout ("Utfall T1 2016" in a 2017 report names no column of ours)."""
    if not is_header_start(blocks[start].first):
        return None
    texts: list[str] = []
    end = start
    while end < len(blocks):
        block = blocks[end]
        words = " ".join(ln.text for ln in block.lines).split()
        if end > start and not (words and _all_header_pieces(words)):
            break
        texts += [ln.text for ln in block.lines]
        end += 1
        if _HEADER_LAST_WORD.search(words[-1]):
            break  # Period is the last column; what follows is a row, even if it looks like a piece
    squashed = re.sub(r"\s+", "", "".join(texts))
    pieces = [p for p in _HEADER_COLUMN_START.split(squashed.removeprefix("Indikator")) if p]
    header = header_columns(["Indikator", *map(space_date, pieces)], report_year, report_tertial)
    if sum(c is not None for c in header.columns) < MIN_HEADER_COLUMNS:
        return None
    return header, end


# --- value cells -----------------------------------------------------------------------------


def is_unit(word: str) -> bool:
    low = word.lower()
    return low in KNOWN_UNITS or low in _EXTRA_UNITS or UNIT_JOINER in word


def _read_number(words: Sequence[str], i: int) -> int:
    """Index after a number cell starting at words[i]: the number and the unit after it."""
    j = i + 1
    if not words[i].endswith("%") and j < len(words) and is_unit(words[j]):
        j += 1
    return j


def _read_cell(words: Sequence[str], i: int) -> int | None:
    """Index after the value cell starting at words[i], or None when words[i] starts no value cell."""
    word, low, n = words[i], words[i].lower(), len(words)
    if _NUMBER_WORD.match(word):
        return _read_number(words, i)
    if word in _DASHES:
        return i + 1
    if low in _PLUS_MINUS and i + 1 < n and _NUMBER_WORD.match(words[i + 1]):
        return _read_number(words, i + 1)
    if low in _PERIOD_WORDS:
        j = i + 1
        if j < n and _PERIOD_NUMBER.match(words[j]):
            j += 1
        if j < n and _YEAR.match(words[j]):
            j += 1
        return j
    if low == "tas":  # "Tas fram av nämnd(en)/styrelse"
        j = i + 1
        while j < n and _COUNCIL_WORDS.match(words[j]):
            j += 1
        return j
    if low in _GOAL_WORDS:
        return i + 1
    if low in _LIMIT_WORDS and i + 1 < n and _NUMBER_WORD.match(words[i + 1]):
        return _read_number(words, i + 1)
    if low.startswith("fastst"):  # "fastställs 2020"
        return i + 2 if i + 1 < n and _YEAR.match(words[i + 1]) else i + 1
    if low in _NO_VALUE_WORDS:
        j = i + 1
        while j < n and words[j].lower() in _NO_VALUE_WORDS:
            j += 1
        return j
    return None


@dataclass
class ValueRun:
    """The value cells of one block, and where two cells may be one number with a thousands space."""

    cells: list[str]
    joinable: set[int] = field(default_factory=set)  # i: cells[i] + cells[i + 1] may be "1 500"


def value_cells(words: Sequence[str]) -> ValueRun | None:
    """Cut a run of words into value cells; None when a word belongs to no value cell."""
    cells: list[str] = []
    i = 0
    while i < len(words):
        end = _read_cell(words, i)
        if end is None:
            return None
        cells.append(" ".join(words[i:end]))
        i = end
    return _group_thousands(cells) if cells else None


def _group_thousands(cells: list[str]) -> ValueRun:
    """'1' + '050 st' is one number: no cell starts with a 0 before other digits. '822' + '700' may be."""
    run = ValueRun([])
    for cell in cells:
        previous = run.cells[-1] if run.cells else ""
        group = _THOUSANDS_GROUP.match(cell)
        if group and _PLAIN_SMALL_INT.match(previous):
            if group.group("group").startswith("0"):
                run.cells[-1] = f"{previous} {cell}"
                continue
            run.joinable.add(len(run.cells) - 1)
        run.cells.append(cell)
    return run


def _has_anchor(run: ValueRun) -> bool:
    """Values after a name must hold a number, a dash or a period, not only words like 'minska'."""
    return any(_NUMBER_WORD.match(_first_word(c)) or c in _DASHES or is_period_like(c) for c in run.cells)


def split_name_and_values(block: Block) -> tuple[str, ValueRun | None]:
    """The name part and the value cells of a block: (name, None) for a name or text block,
    ("", run) for a block of values, (name, run) for a short name sharing its line with the values.
    """
    words = block.joined().split()
    first_line_words = len(block.first.split())
    for k in range(len(words)):
        if k > 0 and k >= first_line_words:
            break  # values share a line only with the first line of a name
        run = value_cells(words[k:])
        if run is not None and (k == 0 or _has_anchor(run)):
            return " ".join(words[:k]), run
    return block.joined(), None


def parse_number(cell: str) -> tuple[float, int] | None:
    """'1 050 st' -> (1050.0, 0); '2,15 %' -> (2.15, 2); None for text, '-' and '+/-1 %'."""
    m = _NUMERIC_CELL.match(cell.strip())
    if not m:
        return None
    digits = re.sub(r"\D", "", m.group("int"))
    decimals = m.group("dec") or ""
    value = float(f"{digits}.{decimals or '0'}")
    return (-value if m.group("sign") in ("-", "−") else value), len(decimals)


def _same_number(a: str, b: str) -> bool:
    pa, pb = parse_number(a), parse_number(b)
    if pa is not None and pb is not None:
        return abs(pa[0] - pb[0]) < 1e-9
    return clean_cell(a).casefold() == clean_cell(b).casefold()


def resolve_thousands(cells: list[str], joinable: set[int]) -> tuple[list[str], bool]:
    """Read each '822 700' as one number or two cells; say whether one could not be settled.

    Two equal halves ("950 950", "100 100") are two cells: forecast and target are often the same
    number, a number like 950 950 is a coincidence. Otherwise a number with a thousands space stands
    among numbers of its own size; when every other number in the row is far smaller, the space
    separates two cells ("0 822 700 700 st 9 000 st").
    """
    numbers = [parse_number(c) for c in cells]
    out: list[str] = []
    undecided = False
    i = 0
    while i < len(cells):
        if i not in joinable or i + 1 >= len(cells):
            out.append(cells[i])
            i += 1
            continue
        if _same_number(cells[i], _first_word(cells[i + 1])):
            out.append(cells[i])
            i += 1
            continue
        joined = f"{cells[i]} {cells[i + 1]}"
        whole = parse_number(joined)
        others = [abs(v[0]) for k, v in enumerate(numbers) if k not in (i, i + 1) and v and v[0]]
        if whole is not None and others and max(others) * THOUSANDS_MAGNITUDE >= abs(whole[0]):
            out.append(joined)
            i += 2
            continue
        undecided = undecided or not others
        out.append(cells[i])
        i += 1
    return out, undecided


# --- goals -----------------------------------------------------------------------------------


def current_goal_kind(tracker: GoalTracker) -> str | None:
    for kind in ("atagande", "namndmal", "kf_goal", "inriktningsmal"):
        if kind in tracker.current:
            return kind
    return None
