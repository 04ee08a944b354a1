"""Parse indicator tables and goals out of a report's extracted lines.

Takes an ExtractedText whose table rows keep their cells apart with TABs (the .txt samples, and
what extract.py makes of a PDF) and gives a ParsedReport: metadata, the goal hierarchy and one
IndicatorRow per printed indicator row, cells still as printed. Texts that lost their table layout
(no TABs: every cell on lines of its own) go to parse_flat.py.

What the tables do to us, and where it is handled:
- header words split by the extraction ("Periode ns utfall")          -> header_columns
- placeholder tables (header, dashes, header again)                   -> _is_dash_line
- a table broken by a page: header repeated, the rest of a name or
  cell on the next page ("sommarjobb i stadens regi", "d.")          -> continuation fragments
- wrapped names on a line of their own                                -> _append_to_name
- a row printed with an empty first cell and the name in the second   -> _split_row
- Kommentar/Analys rows, and the text lines under them                -> comments
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.models import (
    VALUE_COLUMNS,
    ExtractedText,
    Goal,
    IndicatorRow,
    ParsedReport,
    ReportMeta,
    TextLine,
)
from pipeline.reference import GENDER_GLYPH, KNOWN_UNITS, LEADING_GLYPHS
from pipeline.report_meta import apply_manifest, infer_report_meta

# --- cell text -------------------------------------------------------------------------------

_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_COMMENT_WORD = re.compile(r"^(Kommentar|Analys)\b[:.]?\s*", re.IGNORECASE)
_PERIOD_LIKE = re.compile(
    r"^((Tertial|Halvår|Kvartal|Månad)\s*\d?\s*)?((VB|T[12])\s*)?(19|20)\d{2}$|^(År|Tertial|Halvår|Kvartal|Månad)$",
    re.IGNORECASE,
)
_DASHES = re.compile(r"^-{3,}$")


def clean_cell(text: str) -> str:
    """Drop markup (<p>, <i>, *...*) and fold runs of white space, keeping no-break spaces out."""
    text = _EMPHASIS.sub(r"\1", _MARKUP.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def strip_glyphs(name: str) -> tuple[str, bool]:
    """Remove status glyphs before a name; say whether the gender glyph ♀ was among them."""
    stripped = name.lstrip(LEADING_GLYPHS)
    return stripped.strip(), GENDER_GLYPH in name[: len(name) - len(stripped)]


def is_period_like(text: str) -> bool:
    return bool(_PERIOD_LIKE.match(text.strip()))


# --- headers ---------------------------------------------------------------------------------


def _header_key(cell: str) -> str:
    """'Periode ns utfall' -> 'periodensutfall'; the OCR-like 'Arsmål' reads as 'årsmål'."""
    key = re.sub(r"\s+", "", cell).lower()
    return re.sub(r"(?<![a-zåäö])arsmål", "årsmål", key)


def _column_for(key: str) -> str | None:
    if "utfall" in key and "vb" in key:
        return "previous_outcome"
    if "män" in key or "pojk" in key:
        return "outcome_men"
    if "kvinn" in key or "flick" in key:
        return "outcome_women"
    if "utfall" in key:
        return "outcome"
    if "prognos" in key:
        return "forecast"
    if key.startswith("kf"):
        return "city_target"
    if "årsmål" in key or key.endswith("mål"):
        return "target"
    if key.startswith("period"):  # Period (reports) and Periodicitet (plans)
        return "period"
    return None


@dataclass(frozen=True)
class TableHeader:
    columns: tuple[str | None, ...]  # one per value cell after "Indikator"; None = unknown header word
    previous_label: str | None  # "VB 2013"


def header_columns(cells: Sequence[str]) -> TableHeader:
    columns = tuple(_column_for(_header_key(c)) for c in cells[1:])
    label = None
    for c in cells[1:]:
        m = re.search(r"VB\s*((?:19|20)\d{2})", clean_cell(c))
        if m:
            label = f"VB {m.group(1)}"
    return TableHeader(columns, label)


def is_indicator_header(text: str) -> bool:
    return text.startswith("Indikator\t")


def is_other_table_header(text: str) -> bool:
    return text.startswith("Aktivitet\t")


def _is_dash_line(cells: Sequence[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(_DASHES.match(c) for c in filled)


# --- goals -----------------------------------------------------------------------------------

_GOAL_MARKERS = {
    "kf:s inriktningsmål": "inriktningsmal",
    "inriktningsmål": "inriktningsmal",
    "kf:s mål för verksamhetsområdet": "kf_goal",
    "nämndmål": "namndmal",
    "åtagande": "atagande",
}
_ASSESSMENT = re.compile(r"\bUppfylls\s+(helt|delvis|inte|ej)\b", re.IGNORECASE)
_GOAL_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")


@dataclass
class GoalTracker:
    """Follows the goal headings so every indicator row knows the goal it stands under."""

    goals: list[Goal] = field(default_factory=list)
    expecting: str | None = None
    current: dict[str, Goal] = field(default_factory=dict)  # kind -> innermost open goal
    counters: dict[str, int] = field(default_factory=dict)
    assessable: Goal | None = None  # the goal an "Uppfylls ..." line would belong to

    def feed(self, line: TextLine) -> None:
        text = clean_cell(line.text.replace("\t", " "))
        if not text:
            return
        marker = _GOAL_MARKERS.get(text.rstrip(":").strip().lower()) if text.endswith(":") else None
        if marker:
            self.expecting = marker
            return
        if self.expecting:
            self._open(self.expecting, text, line)
            self.expecting = None
            return
        m = _ASSESSMENT.search(text)
        if m and self.assessable is not None and self.assessable.assessment is None and len(text) < 40:
            word = m.group(1).lower()
            self.assessable.assessment = "inte" if word == "ej" else word

    def table_seen(self) -> None:
        """An assessment after a table belongs to a later heading, not the one above the table."""
        self.assessable = None

    def _open(self, kind: str, text: str, line: TextLine) -> None:
        levels = ("inriktningsmal", "kf_goal", "namndmal", "atagande")
        for deeper in levels[levels.index(kind) :]:
            self.current.pop(deeper, None)
        parent = next((self.current[k] for k in reversed(levels[: levels.index(kind)]) if k in self.current), None)
        number, title = self._number(text)
        ref = self._ref(kind, number, parent)
        goal = Goal(
            ref=ref,
            kind=kind,
            text=title,
            parent_ref=parent.ref if parent else None,
            source_page=line.page,
            source_line=line.line_no,
        )
        self.goals.append(goal)
        self.current[kind] = goal
        self.assessable = goal

    @staticmethod
    def _number(text: str) -> tuple[str | None, str]:
        m = _GOAL_NUMBER.match(text)
        return (m.group(1), m.group(2)) if m else (None, text)

    def _ref(self, kind: str, number: str | None, parent: Goal | None) -> str:
        depth = {"inriktningsmal": 1, "kf_goal": 2, "namndmal": 3}.get(kind)
        # A printed number is used only where it has the depth of its level and sits under its parent;
        # otherwise ("1. Förebyggande arbete" as a council goal) a synthetic ref avoids a collision.
        if number and depth and number.count(".") + 1 == depth:
            if parent is None or number.startswith(parent.ref + "."):
                return number
        prefix = {"inriktningsmal": "I", "kf_goal": "K", "namndmal": "N", "atagande": "A"}[kind]
        scope = parent.ref if parent else ""
        self.counters[scope + prefix] = self.counters.get(scope + prefix, 0) + 1
        own = f"{prefix}{self.counters[scope + prefix]}"
        return f"{scope}.{own}" if scope else own

    def current_ref(self) -> str | None:
        for kind in ("atagande", "namndmal", "kf_goal", "inriktningsmal"):
            if kind in self.current:
                return self.current[kind].ref
        return None


# --- rows ------------------------------------------------------------------------------------


def _starts_lower(text: str) -> bool:
    return bool(text) and text[0].islower()


def join_fragment(head: str, tail: str) -> str:
    """Join the part of a cell carried to the next page: '15,6 barn/av' + 'd.' is one word."""
    if not head:
        return tail
    if not tail:
        return head
    joined = head.split()[-1].lower() + tail.lower()
    if joined in KNOWN_UNITS or joined.rstrip(".") in KNOWN_UNITS:
        return head + tail
    return f"{head} {tail}"


@dataclass
class _SplitRow:
    name: str
    values: list[str]
    flag: str | None


def _split_row(cells: list[str], width: int) -> _SplitRow:
    """Name and value cells of a row, the values placed under the header's `width` columns."""
    cells = [clean_cell(c) for c in cells]
    name, values, flag = cells[0], cells[1:], None
    if not name and len(values) > 1 and values[0] and not values[0][0].isdigit():
        # Name printed in the second cell: the values stand under the right-hand columns.
        name, values = values[0], values[1:]
        values = [""] * max(0, width - len(values)) + values
        if not (values and is_period_like(values[-1])):
            flag = "realigned_row"
    while len(values) > width and values and not values[-1]:
        values.pop()
    if len(values) > width:
        flag = "extra_cells"
        values = values[:width]
    values += [""] * (width - len(values))
    return _SplitRow(name, values, flag)


def _comment_text(cells: Sequence[str]) -> str:
    first = _COMMENT_WORD.sub("", clean_cell(cells[0]))
    rest = [clean_cell(c) for c in cells[1:] if clean_cell(c)]
    return " ".join([t for t in [first, *rest] if t])


@dataclass
class _TableState:
    header: TableHeader | None = None
    in_table: bool = False
    group_alive: bool = False  # a blank line does not end a table that continues after a page break
    repeated_header: bool = False  # the next row may be the rest of the row before the break
    comment_open: bool = False
    last_row: IndicatorRow | None = None
    table_no: int = 0


@dataclass
class TabTableParser:
    goals: GoalTracker = field(default_factory=GoalTracker)
    rows: list[IndicatorRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state: _TableState = field(default_factory=_TableState)

    def run(self, lines: Sequence[TextLine]) -> None:
        for line in lines:
            self._line(line)

    def _line(self, line: TextLine) -> None:
        st, text = self.state, line.text
        if is_indicator_header(text):
            self._header(text)
            return
        if is_other_table_header(text):
            st.in_table = st.group_alive = False
            st.last_row = None
            self.goals.table_seen()
            return
        if not st.in_table:
            if text.strip():
                st.group_alive, st.last_row = False, None
                self.goals.feed(line)
            return
        if not text.strip():
            st.in_table, st.comment_open = False, False
            return
        self._table_line(line)

    def _header(self, text: str) -> None:
        st = self.state
        header = header_columns(text.split("\t"))
        continues = st.group_alive and st.header is not None and st.header.columns == header.columns
        if not continues:
            st.table_no += 1
            st.last_row = None
        st.header, st.in_table, st.group_alive = header, True, True
        st.repeated_header, st.comment_open = continues, False
        self.goals.table_seen()

    def _table_line(self, line: TextLine) -> None:
        st = self.state
        assert st.header is not None
        cells = line.text.split("\t")
        if _is_dash_line(cells):
            return
        first = clean_cell(cells[0])
        # A comment row has its text in the first cell; a name like "Analysförmåga" is not one.
        if _COMMENT_WORD.match(first) and not clean_cell(cells[1] if len(cells) > 1 else ""):
            self._comment(_comment_text(cells), line)
            return
        has_values = any(clean_cell(c) for c in cells[1:])
        if not has_values and st.comment_open:
            self._comment(first, line)
            return
        if "\t" not in line.text and not has_values:
            # Plain text right under a table, with no blank line between: the table has ended.
            st.in_table = st.group_alive = False
            st.last_row = None
            self.goals.feed(line)
            return
        split = _split_row(cells, len(st.header.columns))
        name, by_gender = strip_glyphs(split.name)
        is_fragment = (not name or _starts_lower(name)) and not by_gender
        if st.repeated_header and st.last_row is not None and is_fragment:
            self._merge_fragment(st.last_row, name, split.values, line)
        elif not has_values and _starts_lower(name) and st.last_row is not None:
            self._append_to_name(st.last_row, name, line)
        elif is_fragment and st.last_row is None:
            # The start of this row is not in the file (lost at a page break): keep what there is,
            # flagged, so the comment under it and any values are not lost.
            split.flag = "name_fragment"
            self._new_row(name, by_gender, split, line)
        else:
            self._new_row(name, by_gender, split, line)
        st.repeated_header = False

    def _new_row(self, name: str, by_gender: bool, split: _SplitRow, line: TextLine) -> None:
        st = self.state
        assert st.header is not None
        cells = {col: "" for col in VALUE_COLUMNS}
        flag = split.flag
        for col, value in zip(st.header.columns, split.values, strict=True):
            if col is None:
                if value:
                    flag = flag or "unknown_column"
                continue
            cells[col] = value
        row = IndicatorRow(
            table_no=st.table_no,
            row_no=len(self.rows) + 1,
            indicator_as_printed=name,
            cells=cells,
            previous_label=st.header.previous_label,
            goal_ref=self.goals.current_ref(),
            by_gender=by_gender,
            source_page=line.page,
            source_line=line.line_no,
            quality_flag=flag,
            raw_text=line.text,
        )
        self.rows.append(row)
        st.last_row, st.comment_open = row, False

    def _merge_fragment(self, row: IndicatorRow, name: str, values: list[str], line: TextLine) -> None:
        row.indicator_as_printed = join_fragment(row.indicator_as_printed, name) if name else row.indicator_as_printed
        assert self.state.header is not None
        for col, value in zip(self.state.header.columns, values, strict=True):
            if col and value:
                row.cells[col] = join_fragment(row.cells[col], value)
        row.raw_text += "\n" + line.text

    def _append_to_name(self, row: IndicatorRow, name: str, line: TextLine) -> None:
        row.indicator_as_printed = f"{row.indicator_as_printed} {name}"
        row.raw_text += "\n" + line.text

    def _comment(self, text: str, line: TextLine) -> None:
        st = self.state
        st.comment_open = True
        st.repeated_header = False
        if st.last_row is None:
            if text:
                self.warnings.append(f"line {self._where(line)}: comment with no indicator row above; left out")
            return
        if text:
            old = st.last_row.comment
            st.last_row.comment = f"{old} {text}" if old else text

    @staticmethod
    def _where(line: TextLine) -> str:
        return f"{line.line_no}" if line.page is None else f"{line.line_no} of page {line.page}"


# --- entry point -----------------------------------------------------------------------------


def has_tab_tables(lines: Sequence[TextLine]) -> bool:
    return any(is_indicator_header(ln.text) for ln in lines)


def parse_report(extracted: ExtractedText, manifest_entry: dict[str, str] | None = None) -> ParsedReport:
    lines = extracted.lines
    meta: ReportMeta = apply_manifest(infer_report_meta(lines), manifest_entry)
    if not has_tab_tables(lines):
        from pipeline.parse_flat import parse_flat_report  # texts that lost their table layout

        return parse_flat_report(extracted, meta)
    parser = TabTableParser()
    parser.run(lines)
    return ParsedReport(extracted.file, meta, parser.goals.goals, parser.rows, parser.warnings)
