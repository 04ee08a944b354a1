"""The blocks of a text flattened box by box, and what each block is.

Holds the page furniture of box order (box_furniture), the boxes that came out as one cut apart again
(split_names, split_header_from_values), header pieces broken anywhere (is_header_piece,
region_header), the widths of prose and of a narrow column (prose_width, join_cell_lines), value text
whose words the column broke mended (mend_value_text, unzip_units), and the kind of each block
(classify: a header piece, a name, values, a fragment, a comment, or the end of a table).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pipeline.common.models import VALUE_COLUMNS, TextLine
from pipeline.common.page_numbers import BARE_PAGE_NUMBER, WORDED_PAGE_NUMBER
from pipeline.common.reference import LEADING_GLYPHS
from pipeline.parse.flat_vocab import (
    FURNITURE_REACH,
    UNIT_JOINER,
    Block,
    is_activity_header,
    is_comment_head,
    is_goal_marker,
    is_header_start,
    is_unit,
    lines_near,
    page_furniture,
    space_date,
    value_cells,
)
from pipeline.parse.vocab import TableHeader, clean_cell, header_columns, strip_glyphs

# A line at least this share of the document's prose width is prose, not a table cell.
PROSE_WIDTH_SHARE = 0.9
# The prose width is this quantile of the lengths of the document's longer lines.
PROSE_WIDTH_QUANTILE = 0.9
# Lines shorter than this do not measure the prose width (headings, page numbers, cells).
PROSE_MIN_CHARS = 20

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
    "kf-mål",
    "periodicitet",
)
# A header label with a date after it, squashed: "utfallt12017", "årsmål2017", "kf-mål2017".
_DATED_LABEL = re.compile(r"(?:utfall|årsmål|prognoshelår|kf:sårsmål|kf-mål)(?:(?:t|tertial)[123])?(?:19|20)\d{2}")
_LABEL_DATE = re.compile(r"(?<=[a-zåäö])(?:(?:t|tertial)[123])?(?:19|20)\d{2}")
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
    key = _LABEL_DATE.sub("", squash(text))
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


def region_header(
    pieces: Sequence[str], report_year: int | None = None, report_tertial: int | None = None
) -> TableHeader:
    """The columns a region's header pieces name, in the printed order, and the previous-year label.

    Pieces come in any order and a word may be cut between two pieces, so the squashed text of all
    pieces is counted: each 'utfall' is a column, 'vb2016' marks one of them as last year's, 'män/'
    and 'kvinnor/' two as the gender parts; each 'årsmål' is a target, one per 'kf:s' the city's. A
    dated label ("utfallt12017", "utfall2016") is judged against the report's year and tertial as in a
    table with its layout; one that names no column of ours adds a None column: its table's values
    cannot be placed.
    """
    key = "".join(squash(p) for p in pieces)
    dated = [
        header_columns(["Indikator", space_date(m.group())], report_year, report_tertial)
        for m in _DATED_LABEL.finditer(key)
    ]
    unknown = [m.group() for m, h in zip(_DATED_LABEL.finditer(key), dated, strict=True) if h.columns[0] is None]
    last_year = [h.previous_label for h in dated if h.columns[0] == "previous_outcome" and h.previous_label]
    men = int("män/" in key or "pojk" in key)
    women = int("kvinn" in key or "flick" in key)
    years = _VB_YEAR.findall(key)
    previous = int(bool(years) or bool(last_year))
    unknown_outcomes = sum(1 for u in unknown if u.startswith("utfall"))
    outcome = int(key.count("utfa") - men - women - previous - unknown_outcomes > 0)
    city = int("kf:s" in key or "kf-m" in key)
    unknown_targets = sum(1 for u in unknown if u.startswith("årsmål"))
    target = int(key.count("årsm") - key.count("kf:s") - unknown_targets > 0)
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
    columns: tuple[str | None, ...] = tuple(c for c in COLUMN_ORDER if present[c])
    if unknown:
        columns += (None,)
    return TableHeader(columns, f"VB {years[0]}" if years else (last_year[0] if last_year else None))


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


# --- page furniture and boxes that came out as one -------------------------------------------


def box_furniture(lines: Sequence[TextLine]) -> set[int]:
    """Page numbers, and the running titles that recur next to them.

    Unlike flat_vocab.page_furniture, short lines are never furniture: in box order the top of every
    page holds the same short pieces of header ("Period") and name ("● Andel", "l") right after the
    running title.
    """
    furniture = {i for i in page_furniture(lines) if _is_furniture(lines[i].text.strip())}
    # A running title seen next to one page number only (a short report) is still the cover's title.
    texts = [ln.text.strip() for ln in lines]
    cover = set([t for t in texts if t][:COVER_TITLE_LINES])
    pages = [i for i, t in enumerate(texts) if WORDED_PAGE_NUMBER.match(t)]
    furniture |= {j for i in pages for j in lines_near(texts, i) if texts[j] in cover and _is_furniture(texts[j])}
    # Page numbers printed bare ("3", "3 (22)") are told by the running title that follows them: a
    # line that recurs page after page, most often right after a bare number.
    seen: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if text and _is_furniture(text):
            seen.setdefault(text, []).append(i)
    for where in seen.values():
        numbers = [
            [j for j in lines_near(texts, i)[:FURNITURE_REACH] if BARE_PAGE_NUMBER.match(texts[j])] for i in where
        ]
        if len(where) >= TITLE_MIN_PAGES and sum(bool(n) for n in numbers) * 2 >= len(where):
            furniture.update(where)
            furniture.update(j for n in numbers for j in n)
    return furniture


def _is_furniture(text: str) -> bool:
    if WORDED_PAGE_NUMBER.match(text):
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
    if is_header_piece(join_cell_lines([*head, *tail])) and not squash(header).endswith(("period", "periodicitet")):
        return False  # "Utfall" / "T1 2017": the date is the header's ("Period" / "2017" is a Period cell)
    return value_cells(mend_value_text(" ".join(t.strip() for t in tail)).split()) is not None
