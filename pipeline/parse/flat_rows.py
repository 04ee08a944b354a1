"""Parse indicator tables out of a report text that lost its table layout (sample 002).

Two flattenings reach this module. Read row by row (a name, then that row's values: sample 002), the
text is read here. Read box by box (pdfminer.six's default extract_text: the name column first, then
the header, then the values) it goes to flat_boxes.py, which builds on the lines, blocks, value cells
and placement rules below; parse_flat_report tells the two apart (flat_boxes.read_boxes) and imports
that module when called, as it imports this one.

Takes an ExtractedText with no TAB-separated table rows — a pdfminer-like extraction in which every
table cell came out as its own block of lines, wrapped at the cell's width, and an empty cell left no
trace — together with the ReportMeta inferred so far. Gives a ParsedReport: the goals (through
parse.GoalTracker), one IndicatorRow per printed indicator row with its cells as printed, and one-line
warnings for the build summary. Report type, year and tertial still unknown are filled from the
rows' Period cells ("Tertial 1 2019"); nothing else is invented.

What the flattened text does, and where it is handled:
- blocks of lines between blank lines; a line that does not end in a space was broken inside a
  word ("kvinn" / "or/", "nämnd" / "en"), one that does wrapped at a space    -> join_wrapped
- the header in pieces over several blocks ("Perio" / "dens" / "utfall" ...)  -> read_header
- a name wrapped over several lines, then the cells; cells side by side share a line
  ("2,15 % 2,07 % 2,27"), a wrapped cell goes on over the next lines; a short name may share its
  line with the cells ("Nöjdhet med SIP-möten 4,8 2019")                     -> split_name_and_values
- the space is both the cell separator and the thousands separator ("1 050 st") -> resolve_thousands
- page furniture ("Sid 18 (84)", running titles, "stockholm.se")            -> page_furniture
- a header repeated at a page break, with the rest of a name, a cell or a comment after it
                                                                           -> FlatTableReader._fragment
- the table of contents, and activity tables (Aktivitet / Startdatum / ...), are no indicator
  tables                                                       -> table_of_contents, is_activity_header
- empty cells leave no trace, so a row with fewer values than the table has columns is placed by
  evidence: hard rules decide which placements are possible (a text cell "Tas fram av nämnd" is a
  KF target; gender parts come in pairs, with the total, and must fit it; no gender parts for an
  indicator about things, not people; the same indicator placed with certainty in another table of
  the report). A row is certain when it has one value per column or when exactly one placement is
  possible. Otherwise soft evidence (annual indicators in a tertial report rarely have an outcome or
  forecast, a target is almost always given, forecast usually equals target, council goals have no
  KF target, the columns other rows of the table fill, the analysis saying the outcome comes later)
  only picks the best reading, and the row is flagged.

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
from itertools import combinations
from typing import TYPE_CHECKING

from pipeline.common.models import (
    VALUE_COLUMNS,
    ExtractedText,
    IndicatorRow,
    ParsedReport,
    ReportMeta,
    TextLine,
)
from pipeline.common.reference import KNOWN_UNITS
from pipeline.parse.goals import GoalTracker
from pipeline.parse.vocab import (
    TableHeader,
    clean_cell,
    header_columns,
    is_period_like,
    join_fragment,
    strip_glyphs,
)

if TYPE_CHECKING:
    from pipeline.parse.flat_boxes import BoxReading

# --- flags -----------------------------------------------------------------------------------

TOO_MANY_VALUES = "too_many_values"
PLACEMENT_INCONSISTENT = "placement_inconsistent"
NUMBER_GROUPING_UNCERTAIN = "number_grouping_uncertain"
PERIOD_MISSING = "period_missing"
NAME_FRAGMENT = "name_fragment"
PLACEMENT_UNCERTAIN = "placement_uncertain"
FLAG_PRECEDENCE: tuple[str, ...] = (
    TOO_MANY_VALUES,
    PLACEMENT_INCONSISTENT,
    NUMBER_GROUPING_UNCERTAIN,
    PERIOD_MISSING,
    NAME_FRAGMENT,
    PLACEMENT_UNCERTAIN,
)

# --- layout constants ------------------------------------------------------------------------

# The name column wraps at about 30 characters; a longer line with no values is prose or a comment.
NAME_LINE_MAX_CHARS = 45
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
# Float slack when comparing printed numbers at exactly one rounding width apart.
ROUNDING_EPSILON = 1e-9

# --- line patterns ---------------------------------------------------------------------------

PAGE_NUMBER = re.compile(r"^Sida?\s+\d+\s*(?:\(\s*\d+\s*\)|av\s+\d+)?$", re.IGNORECASE)
_TOC_HEAD = re.compile(r"^Innehåll(?:sförteckning)?$", re.IGNORECASE)
_TOC_ENTRY = re.compile(r"^\S.*?(?:\.{2,}|\s)\s*\d{1,3}$")
_BARE_PAGE = re.compile(r"^\d{1,3}$")
_ACTIVITY_HEADER = re.compile(r"^Aktivitet(?:\s+(?:Startdatum|Slutdatum|Avvikelse)\b.*)?$")
_GOAL_MARKER = re.compile(
    r"^(?:KF:s inriktningsmål|Inriktningsmål|KF:s mål för verksamhetsområdet|Nämndmål|Åtagande):$",
    re.IGNORECASE,
)
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
    "periodicitet",
)
_HEADER_COLUMN_START = re.compile(r"(?=Periodens|Utfall|Prognos|Årsmål|Arsmål|KF:s|Period)")
_HEADER_LAST_WORD = re.compile(r"Period(?:icitet)?$")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")

# --- value cells -----------------------------------------------------------------------------

_NUMBER_WORD = re.compile(r"^(?:\+/-|±)?[-+−]?\d+(?:,\d+)?%?$")
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

# --- evidence --------------------------------------------------------------------------------

_TERTIAL_PERIOD = re.compile(r"^Tertial\s+([12])\s+((?:19|20)\d{2})$")
_REPORTED_LATER = re.compile(
    r"redovisas\s+(?:därmed\s+)?(?:i\s+samband\s+med\s+)?(?:i\s+)?(?:tertialrapport|T2|VB|tertial\s*2)"
    r"|mätning(?:en)?\s+(?:kommer\s+att\s+ske|sker|görs)"
    r"|utfall(?:et)?\s+(?:finns|kommer)\s+(?:först|senare)",
    re.IGNORECASE,
)
_COMMENT_NUMBER = re.compile(r"(?<![\d,])\d+(?:,\d+)?(?![\d,])")
_NUMBER_WORDS = {
    "två": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "sju": 7,
    "åtta": 8,
    "nio": 9,
    "tio": 10,
    "elva": 11,
    "tolv": 12,
}
# Stems of words for people and for things: gender parts exist only for indicators about people.
# An indicator is taken to be about things only when it names a thing and no person.
_PEOPLE_STEMS = (
    "barn",
    "ungdom",
    "unga",
    "vuxna",
    "person",
    "invånare",
    "medarbetare",
    "anställd",
    "aspirant",
    "brukare",
    "omsorgstagare",
    "hemtjänsttagare",
    "boende",
    "föräldra",
    "vårdnadshavare",
    "stockholmare",
    "elev",
    "nyanlända",
    "enskilda",
    "kvinnor",
    "flickor",
    "pojkar",
    "chefer",
    "personal",
    "förskollärare",
    "deltagare",
    "sjukfrånvaro",
    "medskapande",
    "arbetsgivare",
    "hushåll",
    "individ",
    "klient",
    "patient",
    "äldre",
    "migrant",
    "pappor",
    "mammor",
    "studerande",
    "människor",
    "män",
)
_THING_STEMS = (
    "inköp",
    "platser",
    "åtgärder",
    "bostäder",
    "förskolor",
    "avtal",
    "tjänsteutlåtanden",
    "energi",
    "kostnader",
    "enheter",
    "ärenden",
    "utredningar",
    "anmälningar",
    "meddelanden",
    "hämtställen",
    "entreprenader",
    "fordon",
    "verksamhet",
    "budget",
    "prognossäkerhet",
    "registreringar",
    "beställningar",
    "ställen",
    "måltider",
    "livsmedel",
    "miljöbränsle",
    "vräkningar",
    "avhysningar",
)

# Soft evidence: weights of the plausibility score that picks the best reading of a flagged row.
W_TARGET = 2.0  # an annual target (Årsmål) is almost always printed
W_PREVIOUS = 0.5  # last year's outcome usually is too
W_PREVIOUS_ANNUAL = 1.0  # and nearly always for an annual indicator
W_ANNUAL_FORECAST = 3.0  # an annual indicator has no forecast in a tertial report (000, 001: never)
W_ANNUAL_OUTCOME = 1.0  # and rarely an outcome yet
W_TERTIAL_OUTCOME = 1.0  # a tertial indicator usually has its outcome
W_FORECAST_IS_TARGET = 1.0  # forecast and target are often the same number
W_KF_TARGET = 1.0  # KF goal tables have a KF target
W_COUNCIL_NO_KF_TARGET = 2.0  # council goal tables (Nämndmål) do not
W_GENDER_MARK = 0.5  # a name printed after a (lost) glyph is often a gender-reported indicator
W_TABLE_COLUMN = 0.5  # a column the certain rows of the same table fill, or leave empty
W_REPORTED_LATER = 2.0  # "Utfallet redovisas i samband med tertialrapport 2": no outcome (other than 0)
W_COMMENT_NUMBER = 1.0  # the analysis names the number put in the outcome
W_COUNT_ABOVE_FORECAST = 1.0  # a count so far above the full-year forecast is unlikely

GENDER = ("outcome_men", "outcome_women")


# --- lines and blocks ------------------------------------------------------------------------


def _is_blank(text: str) -> bool:
    return not text.strip()


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


def is_header_start(text: str) -> bool:
    """'Indikator Periodens' or 'Indikator' alone: the first line of an indicator table header."""
    words = text.split()
    return bool(words) and words[0] == "Indikator" and all(_is_header_piece(w) for w in words[1:])


def is_activity_header(text: str) -> bool:
    return bool(_ACTIVITY_HEADER.match(text.strip()))


def is_goal_marker(text: str) -> bool:
    return bool(_GOAL_MARKER.match(clean_cell(text)))


def is_comment_head(text: str) -> bool:
    """'Analys' or 'Kommentar' (alone or before the comment), not 'Analysen visar ...'."""
    return bool(_COMMENT_HEAD.match(text.strip()))


def _starts_block(text: str) -> bool:
    """Lines that begin a block even without a blank line before them."""
    return is_header_start(text) or is_activity_header(text) or is_goal_marker(text) or is_comment_head(text)


def _is_header_piece(word: str) -> bool:
    low = word.lower()
    return bool(_YEAR.match(low)) or any(low in vocab for vocab in _HEADER_VOCABULARY)


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
    pages = [i for i, t in enumerate(texts) if PAGE_NUMBER.match(t)]
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
            if _TOC_ENTRY.match(text) or _BARE_PAGE.match(text):
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


def read_header(blocks: Sequence[Block], start: int) -> tuple[TableHeader, int] | None:
    """The header beginning at blocks[start] and the index of the first block after it, or None."""
    if not is_header_start(blocks[start].first):
        return None
    texts: list[str] = []
    end = start
    while end < len(blocks):
        block = blocks[end]
        words = " ".join(ln.text for ln in block.lines).split()
        if end > start and not (words and all(_is_header_piece(w) for w in words)):
            break
        texts += [ln.text for ln in block.lines]
        end += 1
        if _HEADER_LAST_WORD.search(words[-1]):
            break  # Period is the last column; what follows is a row, even if it looks like a piece
    squashed = re.sub(r"\s+", "", "".join(texts))
    pieces = [p for p in _HEADER_COLUMN_START.split(squashed.removeprefix("Indikator")) if p]
    header = header_columns(["Indikator", *pieces])
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


# --- rows as read ----------------------------------------------------------------------------


@dataclass
class RawRow:
    """An indicator row as read: its value cells in printed order, not yet placed in columns."""

    table_no: int
    header: TableHeader
    goal_ref: str | None
    goal_kind: str | None
    name: str
    source: TextLine
    marked: bool  # the name line starts with a space, where a glyph (often ♀) was lost
    values: list[str] = field(default_factory=list)
    joinable: set[int] = field(default_factory=set)
    period: str = ""
    complete: bool = False
    comment: str | None = None
    raw_lines: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def has_period_column(self) -> bool:
        return "period" in self.header.columns

    def add_lines(self, block: Block) -> None:
        self.raw_lines += [ln.text.rstrip() for ln in block.lines]

    def add_values(self, run: ValueRun) -> None:
        offset = len(self.values)
        self.values += run.cells
        self.joinable |= {offset + i for i in run.joinable}
        if self.has_period_column and self.values and is_period_like(self.values[-1]):
            self.period = self.values.pop()
            self.joinable.discard(len(self.values) - 1)
            self.complete = True


@dataclass
class _OpenTable:
    header: TableHeader
    number: int
    goal_kind: str | None


def current_goal_kind(tracker: GoalTracker) -> str | None:
    for kind in ("atagande", "namndmal", "kf_goal", "inriktningsmal"):
        if kind in tracker.current:
            return kind
    return None


def _starts_lower(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and stripped[0].islower()


def looks_like_name(block: Block) -> bool:
    """A name is printed in the narrow first column: short lines, starting with a capital letter."""
    name, _ = strip_glyphs(block.first)
    return (
        bool(name) and not name[0].islower() and all(len(ln.text.strip()) <= NAME_LINE_MAX_CHARS for ln in block.lines)
    )


@dataclass
class FlatTableReader:
    """Walks the blocks: goal headings outside tables, rows, comments and page-break pieces inside."""

    file_name: str = ""
    goals: GoalTracker = field(default_factory=GoalTracker)
    rows: list[RawRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    table: _OpenTable | None = None
    table_count: int = 0
    pending: RawRow | None = None  # a row whose Period cell has not come yet
    last_row: RawRow | None = None
    after_break: bool = False  # a page break (furniture or a repeated header) was just passed
    comment_open: bool = False  # the last comment was cut by a page break and may go on after it

    def run(self, blocks: Sequence[Block]) -> None:
        i = 0
        while i < len(blocks):
            i = self._step(blocks, i)
        self._end_table()

    def _step(self, blocks: Sequence[Block], i: int) -> int:
        found = read_header(blocks, i)
        if found is not None:
            header, after = found
            self._header(header, blocks[after - 1])
            return after
        if self.table is None:
            self._outside(blocks[i])
        else:
            self._in_table(blocks[i], blocks[i + 1] if i + 1 < len(blocks) else None)
        return i + 1

    # -- tables and what is around them

    def _header(self, header: TableHeader, last_block: Block) -> None:
        repeated = self.table is not None and self.table.header.columns == header.columns
        if not repeated:
            self._end_table()
            self.table_count += 1
            self.table = _OpenTable(header, self.table_count, current_goal_kind(self.goals))
        # The rest of a name, a cell or a comment may follow a header repeated at a page break.
        self.after_break = repeated or last_block.page_break_after
        self.goals.table_seen()

    def _end_table(self) -> None:
        self._close_pending()
        self.table, self.last_row = None, None
        self.after_break = self.comment_open = False

    def _outside(self, block: Block) -> None:
        if is_activity_header(block.first):
            self.goals.table_seen()
        lines, i = block.lines, 0
        while i < len(lines):
            if self.goals.expecting:
                # A goal title wraps like any text: its lines end in a space until the last one.
                j = i
                while j + 1 < len(lines) and lines[j].text[-1:].isspace():
                    j += 1
                title = " ".join(ln.text.strip() for ln in lines[i : j + 1])
                self.goals.feed(TextLine(lines[i].page, lines[i].line_no, title))
                i = j + 1
                continue
            self.goals.feed(lines[i])
            i += 1

    def _in_table(self, block: Block, following: Block | None) -> None:
        if is_activity_header(block.first) or is_goal_marker(block.first):
            self._end_table()
            self._outside(block)
            return
        carried, self.after_break = self.after_break, block.page_break_after
        if is_comment_head(block.first):
            self._comment(block)
            self.comment_open = not block.blank_after or block.page_break_after
            return
        name, run = split_name_and_values(block)
        if run is not None:
            self.comment_open = False
            if name:
                self._start_row(block, name)
            self._values(block, run, lines_taken=bool(name))
            return
        is_row_start = looks_like_name(block) and self._row_follows(block, following)
        if carried and self.comment_open and not is_row_start:
            self._append_comment(block.joined())
            self.comment_open = block.page_break_after
            return
        self.comment_open = False
        if self._fragment(block, carried, following):
            return
        if is_row_start:
            self._start_row(block, name)
            return
        # Text that is no row: the table has ended.
        self._end_table()
        self._outside(block)

    def _row_follows(self, block: Block, following: Block | None) -> bool:
        """A name is followed by its values (or by a page break before them)."""
        if following is None:
            return False
        if is_header_start(following.first) or block.page_break_after:
            return True
        name, run = split_name_and_values(following)
        if run is not None and not name:
            return True
        return block.lines[-1].text[-1:].isspace() and _starts_lower(following.first)

    # -- rows

    def _start_row(self, block: Block, name: str) -> None:
        assert self.table is not None
        self._close_pending()
        clean, _ = strip_glyphs(name)
        row = RawRow(
            table_no=self.table.number,
            header=self.table.header,
            goal_ref=self.goals.current_ref(),
            goal_kind=self.table.goal_kind,
            name=clean,
            source=block.lines[0],
            marked=block.first[:1].isspace(),
        )
        row.add_lines(block)
        self.rows.append(row)
        self.pending = self.last_row = row

    def _values(self, block: Block, run: ValueRun, lines_taken: bool) -> None:
        row = self.pending
        if row is None:
            where = block.lines[0].line_no
            self.warnings.append(f"{self.file_name}: line {where}: values with no indicator name above; left out")
            return
        if not lines_taken:
            row.add_lines(block)
        row.add_values(run)
        if row.complete:
            self.pending = None

    def _close_pending(self) -> None:
        row, self.pending = self.pending, None
        if row is not None and row.has_period_column and not row.complete:
            row.flags.append(PERIOD_MISSING)

    def _fragment(self, block: Block, carried: bool, following: Block | None) -> bool:
        """The rest of a name or a cell, carried over a page break (or a wrapped name over a gap)."""
        text = block.joined()
        if not _starts_lower(text):
            return False
        pending = self.pending
        if pending is not None and not pending.values:
            pending.name = f"{pending.name} {text}"
            pending.add_lines(block)
            return True
        row = pending or self.last_row
        if row is None:
            if not self._row_follows(block, following):
                return False
            # The start of this name is not in the text (lost before a page break): keep the row,
            # flagged, so its values and comment are not lost.
            self._start_row(block, text)
            assert self.pending is not None
            self.pending.flags.append(NAME_FRAGMENT)
            return True
        if not carried:
            return False
        unfinished = _unfinished_text_cell(row.values)
        if unfinished is not None:
            row.values[unfinished] = join_fragment(row.values[unfinished], text)
        else:
            row.name = f"{row.name} {text}"
        row.add_lines(block)
        return True

    # -- comments

    def _comment(self, block: Block) -> None:
        if self.pending is not None and self.pending.values:
            self._close_pending()
        first = _COMMENT_HEAD.sub("", block.lines[0].text.strip())
        rest = " ".join(ln.text.strip() for ln in block.lines[1:])
        self._append_comment(clean_cell(f"{first} {rest}"), block.lines[0])

    def _append_comment(self, text: str, line: TextLine | None = None) -> None:
        row = self.last_row
        if row is None:
            if text and line is not None:
                self.warnings.append(
                    f"{self.file_name}: line {line.line_no}: comment with no indicator row above; left out"
                )
            return
        if text:
            row.comment = f"{row.comment} {text}" if row.comment else text


def _unfinished_text_cell(values: Sequence[str]) -> int | None:
    """'Tas fram av' waits for 'nämnd/styrelse' on the next page."""
    for i in range(len(values) - 1, -1, -1):
        if re.search(r"\b(?:tas|fram|av)$|/$", values[i], re.IGNORECASE):
            return i
    return None


# --- placement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowContext:
    """What the placement rules know about a row besides its values."""

    annual: bool  # Period is a bare year
    tertial_report: bool
    goal_kind: str | None
    about_people: bool | None  # None: the name does not tell
    marked: bool
    comment: str
    table_columns: frozenset[str] | None  # columns filled by the certain rows of the table, if any


def about_people(name: str) -> bool | None:
    words = name.lower().split()
    if any(stem in w for w in words for stem in _PEOPLE_STEMS if len(stem) > 3 or w == stem):
        return True
    if any(stem in w for w in words for stem in _THING_STEMS):
        return False
    return None


def text_cell_kind(cell: str) -> str | None:
    """'council' for 'Tas fram av nämnd' (a KF target set by the council), 'goal' for 'öka', 'max 10'."""
    low = cell.lower()
    if low.startswith("tas"):
        return "council"
    word = _first_word(low)
    if word in _GOAL_WORDS or word in _LIMIT_WORDS or word.startswith("fastst"):
        return "goal"
    return None


def _half_unit(decimals: int) -> float:
    return 0.5 * 10.0**-decimals


def gender_parts_fit(total: str, men: str, women: str) -> bool:
    """The total of a gender split is between the parts (a share, an index) or their sum (a count)."""
    parsed = [parse_number(c) for c in (total, men, women)]
    if any(p is None for p in parsed):
        return True
    (t, td), (m, md), (w, wd) = parsed  # type: ignore[misc]
    # Printed numbers are rounded: 3,3 stands for [3,25; 3,35), 3,2 for [3,15; 3,25). A total that is
    # a rounding width or more above both parts (or below both) cannot be their average.
    tol_between = _half_unit(td) + max(_half_unit(md), _half_unit(wd)) - ROUNDING_EPSILON
    tol_sum = _half_unit(td) + _half_unit(md) + _half_unit(wd) - ROUNDING_EPSILON
    below_both = t <= min(m, w) - tol_between
    between_max_and_sum = t >= max(m, w) + tol_between and t <= m + w - tol_sum
    return not (below_both or between_max_and_sum)


def breaks_hard_rule(placed: dict[str, str], columns: Sequence[str], ctx: RowContext) -> bool:
    for column, value in placed.items():
        kind = text_cell_kind(value)
        if kind == "council" and column != "city_target":
            return True
        if kind == "goal" and column not in ("target", "city_target"):
            return True
    men, women = (g in placed for g in GENDER)
    if men != women:
        return True
    if men:
        if "outcome" in columns and "outcome" not in placed:
            return True
        if ctx.about_people is False:
            return True
        if "outcome" in placed and not gender_parts_fit(
            placed["outcome"], placed["outcome_men"], placed["outcome_women"]
        ):
            return True
    return False


def _same_number(a: str, b: str) -> bool:
    pa, pb = parse_number(a), parse_number(b)
    if pa is not None and pb is not None:
        return abs(pa[0] - pb[0]) < 1e-9
    return clean_cell(a).casefold() == clean_cell(b).casefold()


def _comment_numbers(comment: str) -> set[float]:
    numbers = {float(m.group().replace(",", ".")) for m in _COMMENT_NUMBER.finditer(comment)}
    words = re.findall(r"[a-zåäö]+", comment.lower())
    return numbers | {float(_NUMBER_WORDS[w]) for w in words if w in _NUMBER_WORDS}


def plausibility(placed: dict[str, str], ctx: RowContext) -> float:
    """Soft evidence for one placement; it only picks the best reading of a row that gets flagged."""
    filled = set(placed)
    score = 0.0
    if "target" in filled:
        score += W_TARGET
    if "previous_outcome" in filled:
        score += W_PREVIOUS_ANNUAL if ctx.annual else W_PREVIOUS
    if ctx.tertial_report and ctx.annual:
        score -= W_ANNUAL_FORECAST * ("forecast" in filled) + W_ANNUAL_OUTCOME * ("outcome" in filled)
    elif ctx.tertial_report and "outcome" in filled:
        score += W_TERTIAL_OUTCOME
    if "outcome_men" in filled:
        score += W_GENDER_MARK if ctx.marked else -W_GENDER_MARK
    if "city_target" in filled:
        if ctx.goal_kind in ("namndmal", "atagande"):
            score -= W_COUNCIL_NO_KF_TARGET
        elif ctx.goal_kind == "kf_goal":
            score += W_KF_TARGET
    if "forecast" in filled and "target" in filled and _same_number(placed["forecast"], placed["target"]):
        score += W_FORECAST_IS_TARGET
    if ctx.table_columns is not None:
        score += sum(W_TABLE_COLUMN if c in ctx.table_columns else -W_TABLE_COLUMN for c in filled)
    outcome = parse_number(placed.get("outcome", ""))
    if outcome is not None:
        if outcome[0] != 0 and _REPORTED_LATER.search(ctx.comment):
            score -= W_REPORTED_LATER
        if outcome[0] in _comment_numbers(ctx.comment):
            score += W_COMMENT_NUMBER
        forecast = parse_number(placed.get("forecast", ""))
        if ctx.tertial_report and forecast is not None and outcome[0] > forecast[0] and _is_count(placed):
            score -= W_COUNT_ABOVE_FORECAST
    return score


def _is_count(placed: dict[str, str]) -> bool:
    return not any("%" in v for v in placed.values())


@dataclass
class Placement:
    cells: dict[str, str]
    flag: str | None


def _placed(values: Sequence[str], columns: Sequence[str]) -> dict[str, str]:
    return dict(zip(columns, values, strict=True))


def possible_placements(values: Sequence[str], columns: Sequence[str], ctx: RowContext) -> list[dict[str, str]]:
    """Every order-keeping placement of the values under the columns that breaks no hard rule."""
    out = []
    for combo in combinations(columns, len(values)):
        placed = _placed(values, combo)
        if not breaks_hard_rule(placed, columns, ctx):
            out.append(placed)
    return out


def matches_reference(placed: dict[str, str], reference: dict[str, str]) -> bool:
    """The same indicator, same period, placed with certainty elsewhere: every value in its column."""
    return all(reference.get(col) and _same_number(value, reference[col]) for col, value in placed.items())


def place_values(
    values: Sequence[str],
    columns: Sequence[str],
    ctx: RowContext,
    references: Sequence[dict[str, str]] = (),
) -> Placement:
    if len(values) > len(columns):
        return Placement({}, TOO_MANY_VALUES)
    if len(values) == len(columns):
        # One value per column: there is only one placement, whatever the numbers say.
        return Placement(_placed(values, columns), None)
    possible = possible_placements(values, columns, ctx)
    if len(possible) == 1:
        return Placement(possible[0], None)
    if not possible:
        relaxed = [_placed(values, combo) for combo in combinations(columns, len(values))]
        return Placement(max(relaxed, key=lambda p: plausibility(p, ctx)), PLACEMENT_INCONSISTENT)
    for reference in references:
        fitting = [p for p in possible if matches_reference(p, reference)]
        if len(fitting) == 1:
            return Placement(fitting[0], None)
    return Placement(max(possible, key=lambda p: plausibility(p, ctx)), PLACEMENT_UNCERTAIN)


def _name_key(name: str) -> str:
    return re.sub(r"[^\wåäö]+", " ", name.lower()).strip()


@dataclass
class _Prepared:
    raw: RawRow
    values: list[str]
    columns: tuple[str, ...]
    flags: list[str]


def _prepare(raw: RawRow) -> _Prepared:
    values, undecided = resolve_thousands(raw.values, raw.joinable)
    flags = list(raw.flags) + ([NUMBER_GROUPING_UNCERTAIN] if undecided else [])
    columns = tuple(c for c in raw.header.columns if c is not None and c != "period")
    return _Prepared(raw, values, columns, flags)


def _context(p: _Prepared, tertial_report: bool, table_columns: frozenset[str] | None) -> RowContext:
    return RowContext(
        annual=bool(_YEAR.match(p.raw.period)),
        tertial_report=tertial_report,
        goal_kind=p.raw.goal_kind,
        about_people=about_people(p.raw.name),
        marked=p.raw.marked,
        comment=p.raw.comment or "",
        table_columns=table_columns,
    )


def place_rows(raw_rows: Sequence[RawRow], meta: ReportMeta) -> list[IndicatorRow]:
    """Two passes: rows the hard rules settle alone, then the rest with what those rows show."""
    tertial_report = (meta.report_type or "").startswith("tertialrapport")
    prepared = [_prepare(r) for r in raw_rows]
    first = [place_values(p.values, p.columns, _context(p, tertial_report, None)) for p in prepared]

    table_columns: dict[int, set[str]] = {}
    references: dict[tuple[str, str], list[dict[str, str]]] = {}
    for p, placement in zip(prepared, first, strict=True):
        if placement.flag is None and not p.flags:
            table_columns.setdefault(p.raw.table_no, set()).update(placement.cells)
            references.setdefault((_name_key(p.raw.name), p.raw.period), []).append(placement.cells)

    rows = []
    for number, (p, placement) in enumerate(zip(prepared, first, strict=True), start=1):
        if placement.flag == PLACEMENT_UNCERTAIN:
            seen = table_columns.get(p.raw.table_no)
            ctx = _context(p, tertial_report, frozenset(seen) if seen is not None else None)
            same_indicator = references.get((_name_key(p.raw.name), p.raw.period), [])
            placement = place_values(p.values, p.columns, ctx, same_indicator)
        rows.append(_indicator_row(number, p, placement))
    return rows


def _indicator_row(number: int, p: _Prepared, placement: Placement) -> IndicatorRow:
    raw = p.raw
    cells = {col: "" for col in VALUE_COLUMNS}
    cells.update(placement.cells)
    cells["period"] = raw.period
    flags = p.flags + ([placement.flag] if placement.flag else [])
    flag = next((f for f in FLAG_PRECEDENCE if f in flags), None)
    _, by_gender = strip_glyphs(raw.source.text)
    return IndicatorRow(
        table_no=raw.table_no,
        row_no=number,
        indicator_as_printed=raw.name,
        cells=cells,
        previous_label=raw.header.previous_label,
        goal_ref=raw.goal_ref,
        by_gender=by_gender,
        comment=raw.comment,
        source_page=raw.source.page,
        source_line=raw.source.line_no,
        quality_flag=flag,
        raw_text="\n".join(raw.raw_lines),
    )


# --- report metadata -------------------------------------------------------------------------


def fill_meta_from_periods(meta: ReportMeta, periods: Sequence[str], file_name: str) -> list[str]:
    """Report type, year and tertial still unknown, from the most common 'Tertial N YYYY' Period cell.

    A first-tertial report measures its tertial indicators in "Tertial 1 2019"; report_meta reads
    such cells line by line, which misses them when the cell wraps ("Tertial 1" / "2019").
    """
    if meta.report_type is not None and meta.year is not None:
        return []
    counts = Counter(m.groups() for p in periods if (m := _TERTIAL_PERIOD.match(p)))
    if not counts:
        return []
    ranked = counts.most_common(2)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return [f"{file_name}: Period cells name two tertials equally often; report type left unknown"]
    (tertial, year), n = ranked[0]
    if meta.year is not None and meta.year != int(year):
        return [f"{file_name}: Period cells say {year}, the text {meta.year}; report type left unknown"]
    filled = []
    if meta.report_type is None:
        meta.report_type, meta.evidence["report_type"] = f"tertialrapport_{tertial}", "text"
        filled.append("report type")
    if meta.report_type == f"tertialrapport_{tertial}" and meta.tertial is None:
        meta.tertial, meta.evidence["tertial"] = int(tertial), "text"
        filled.append("tertial")
    if meta.year is None:
        meta.year, meta.evidence["year"] = int(year), "text"
        filled.append("year")
    if not filled:
        return []
    cells = f"Tertial {tertial} {year} in {n} rows"
    return [f"{file_name}: {', '.join(filled)} read from the Period cells ({cells})"]


# --- entry point -----------------------------------------------------------------------------


def read_flat_tables(lines: Sequence[TextLine], file_name: str = "") -> FlatTableReader:
    """Goals and rows (values not yet placed) of a text without table layout."""
    blocks = split_blocks(lines, page_furniture(lines), table_of_contents(lines))
    reader = FlatTableReader(file_name=file_name)
    reader.run(blocks)
    return reader


def _summary(file_name: str, tables: int, rows: Sequence[IndicatorRow]) -> str:
    flags = Counter(r.quality_flag for r in rows if r.quality_flag)
    certain = len(rows) - sum(flags.values())
    detail = ", ".join(f"{flag} {n}" for flag, n in sorted(flags.items()))
    return (
        f"{file_name}: table layout lost; read {len(rows)} indicator rows in {tables} tables, "
        f"{certain} placed with certainty, {sum(flags.values())} flagged" + (f" ({detail})" if detail else "")
    )


def parse_flat_report(extracted: ExtractedText, meta: ReportMeta) -> ParsedReport:
    from pipeline.parse.flat_boxes import read_boxes  # the reader of box-by-box text builds on this module

    file_name = extracted.file.name
    boxes = read_boxes(extracted.lines)
    if boxes.box_order:
        return _box_report(extracted, meta, boxes)
    reader = read_flat_tables(extracted.lines, file_name)
    warnings = fill_meta_from_periods(meta, [r.period for r in reader.rows], file_name)
    rows = place_rows(reader.rows, meta)
    if not rows:
        warnings.append(f"{file_name}: no indicator table found in a text without table layout")
    else:
        warnings.append(_summary(file_name, reader.table_count, rows))
    return ParsedReport(extracted.file, meta, reader.goals.goals, rows, reader.warnings + warnings)


def _box_report(extracted: ExtractedText, meta: ReportMeta, boxes: BoxReading) -> ParsedReport:
    from pipeline.parse.flat_boxes import box_rows

    file_name = extracted.file.name
    rows = box_rows(boxes.regions, meta)
    warnings = fill_meta_from_periods(meta, [r.cells["period"] for r in rows], file_name)
    tables = sum(max(r.tables, 1) for r in boxes.regions)
    if not rows:
        warnings.append(f"{file_name}: no indicator table found in a text without table layout")
    else:
        warnings.append(_summary(file_name, tables, rows).replace("table layout lost", "table layout lost, box order"))
    return ParsedReport(extracted.file, meta, boxes.goals.goals, rows, warnings)
