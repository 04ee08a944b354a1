"""Parse indicator tables and goals out of a report's extracted lines.

Takes an ExtractedText whose table rows keep their cells apart with TABs (the .txt samples, and
what extract.py makes of a PDF) and gives a ParsedReport: metadata, the goal hierarchy and one
IndicatorRow per printed indicator row, cells still as printed. Texts that lost their table layout
(no TABs: every cell on lines of its own) go to flat_rows.py.

What the tables do to us, and where it is handled:
- header words split by the extraction ("Periode ns utfall")          -> header_columns
- placeholder tables (header, dashes, header again)                   -> _is_dash_line
- a table broken by a page: header repeated, the rest of a name or
  cell on the next page ("sommarjobb i stadens regi", "d.")          -> continuation fragments
- wrapped names on a line of their own                                -> _append_to_name
- a row printed with an empty first cell and the name in the second   -> _split_row
- Kommentar/Analys rows, and the text lines under them                -> comments
- a year in a header ("Utfall 2016" in a 2017 report: last year's)    -> header_columns(report_year)
- a two-row header (a spanning "Utfall" over "Totalt | Män/pojkar")   -> span_header
- a footnote marker after a name ("… tobak 1)", "… tobak*")           -> strip_footnote_marker
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.common.models import (
    MEASURES,
    PARTIAL_WARNING,
    VALUE_COLUMNS,
    ExtractedText,
    IndicatorRow,
    ParsedReport,
    ReportMeta,
    TextLine,
    read_in_part,
)
from pipeline.common.numbers import holds_two_values, is_known_unit, looks_numeric
from pipeline.parse.flat_rows import parse_flat_report
from pipeline.parse.goals import GoalTracker, is_goal_marker
from pipeline.parse.report_meta import apply_manifest, infer_report_meta
from pipeline.parse.vocab import (
    TableHeader,
    clean_cell,
    ends_unit,
    header_columns,
    is_period_like,
    is_spanning_row,
    is_subheader_row,
    join_fragment,
    span_header,
    strip_footnote_marker,
    strip_glyphs,
)

# --- table lines -----------------------------------------------------------------------------

_COMMENT_WORD = re.compile(r"^(Kommentar|Analys)\b[:.]?\s*", re.IGNORECASE)
_DASHES = re.compile(r"^-{3,}$")


def is_indicator_header(text: str) -> bool:
    return text.startswith("Indikator\t")


def is_other_table_header(text: str) -> bool:
    return text.startswith("Aktivitet\t")


def _is_dash_line(cells: Sequence[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(_DASHES.match(c) for c in filled)


# --- checks that flag a row instead of guessing ----------------------------------------------

DUPLICATE_COLUMN = "duplicate_column"  # two header cells name the same column
NO_PERIOD_COLUMN = "no_period_column"  # the header has no Period/Periodicitet column
NOT_A_PERIOD = "not_a_period"  # the Period cell holds no period
TWO_VALUES_IN_CELL = "two_values_in_cell"  # a measure cell holds two numbers, or "- 70,6"
# the rest of a row after a page break has a value where the row above already has one
CONTINUATION_CONFLICT = "continuation_conflict"


def header_flag(header: TableHeader) -> str | None:
    known = [c for c in header.columns if c is not None]
    if len(known) != len(set(known)):
        return DUPLICATE_COLUMN
    if known and "period" not in known:
        return NO_PERIOD_COLUMN
    return None


def cell_flag(cells: dict[str, str]) -> str | None:
    if any(holds_two_values(cells[m]) for m in MEASURES):
        return TWO_VALUES_IN_CELL
    period = cells.get("period", "")
    if period and not is_period_like(period):
        return NOT_A_PERIOD
    return None


def _continues(head: str, tail: str) -> bool:
    """Whether `tail` (after a page break) can be the rest of the non-empty cell `head`: words, or the
    rest of a unit, never a digit that would join the number above."""
    if any(ch.isdigit() for ch in tail):
        return False
    return ends_unit(head, tail) or is_known_unit(tail) or not looks_numeric(head)


# --- rows ------------------------------------------------------------------------------------


def _starts_lower(text: str) -> bool:
    return bool(text) and text[0].islower()


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


def join_header_rows(lines: Sequence[TextLine]) -> list[TextLine]:
    """A two-row header as one line: a spanning "Utfall" above or below the "Indikator" line, over
    "Totalt | Män/pojkar | Kvinnor/flickor", gives "Utfall Totalt", "Utfall Män/pojkar", ..."""
    out: list[TextLine] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        below = lines[i + 1] if i + 1 < len(lines) else None
        if is_indicator_header(line.text) and below is not None and is_subheader_row(below.text.split("\t")):
            out.append(_joined(line, line.text, below.text))
            i += 2
            continue
        if (
            below is not None
            and is_spanning_row(line.text.split("\t"))
            and is_indicator_header(below.text)
            and is_subheader_row(below.text.split("\t"))
        ):
            out.append(_joined(below, line.text, below.text))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _joined(at: TextLine, top: str, sub: str) -> TextLine:
    return TextLine(at.page, at.line_no, "\t".join(span_header(top.split("\t"), sub.split("\t"))))


@dataclass
class _TableState:
    header: TableHeader | None = None
    in_table: bool = False
    group_alive: bool = False  # a blank line does not end a table that continues after a page break
    repeated_header: bool = False  # the next row may be the rest of the row before the break
    comment_open: bool = False
    last_row: IndicatorRow | None = None
    table_no: int = 0
    header_line: TextLine | None = None  # where the current table's header stands
    placeholder: bool = False  # a line of dashes: an empty placeholder table, rows come later


@dataclass
class TabTableParser:
    goals: GoalTracker = field(default_factory=GoalTracker)
    rows: list[IndicatorRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state: _TableState = field(default_factory=_TableState)
    report_year: int = 0  # header years are judged against it; 0: not known, a dated column is flagged
    report_tertial: int | None = None  # and header tertials ("Utfall T1 2017"); None: an annual report or plan

    def run(self, lines: Sequence[TextLine]) -> None:
        for line in join_header_rows(lines):
            self._line(line)
        self._close_table()

    def _line(self, line: TextLine) -> None:
        st, text = self.state, line.text
        if is_indicator_header(text):
            self._header(line)
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

    def _header(self, line: TextLine) -> None:
        st = self.state
        header = header_columns(line.text.split("\t"), self.report_year, self.report_tertial)
        continues = st.group_alive and st.header is not None and st.header.columns == header.columns
        if not continues:
            self._close_table()
            st.table_no += 1
            st.last_row = None
            st.header_line, st.placeholder = line, False
        st.header, st.in_table, st.group_alive = header, True, True
        st.repeated_header, st.comment_open = continues, False
        self.goals.table_seen()

    def _table_line(self, line: TextLine) -> None:
        st = self.state
        assert st.header is not None
        cells = line.text.split("\t")
        if _is_dash_line(cells):
            st.placeholder = True
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
        if not has_values and ("\t" not in line.text or is_goal_marker(first)):
            # Plain text right under a table, with no blank line between, or a goal heading that a
            # table without borders drew into its columns: the table has ended.
            st.in_table = st.group_alive = False
            st.last_row = None
            self.goals.feed(line)
            return
        split = _split_row(cells, len(st.header.columns))
        name, by_gender = strip_glyphs(strip_footnote_marker(split.name))
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

    def _close_table(self) -> None:
        """A recognised indicator header with no row under it is said, not passed over in silence."""
        st = self.state
        if st.header_line is None or st.placeholder or st.header is None or not any(st.header.columns):
            return
        if not (self.rows and self.rows[-1].table_no == st.table_no):  # rows come in table order
            self.warnings.append(f"line {self._where(st.header_line)}: indicator table header with no rows under it")
        st.header_line = None

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
            if value and cells[col]:
                flag = flag or DUPLICATE_COLUMN  # the first value is kept; both are in raw_text
                continue
            cells[col] = cells[col] or value
        flag = flag or header_flag(st.header) or cell_flag(cells)
        flag = ",".join(dict.fromkeys(f for f in (line.flag, flag) if f)) or None  # the extraction's flag first
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
            raw_text=line.text + (f"\n{line.other_reading}" if line.other_reading else ""),
        )
        self.rows.append(row)
        st.last_row, st.comment_open = row, False

    def _merge_fragment(self, row: IndicatorRow, name: str, values: list[str], line: TextLine) -> None:
        """The rest of `row` carried past a page break. A value goes only into an empty cell, or ends a
        unit broken at the break ("15,6 barn/av" + "d.") or a text ("Tas fram av" + "nämnd"); two values
        are never glued ("12" + "345", "300" + "150"): the row is flagged instead."""
        row.indicator_as_printed = join_fragment(row.indicator_as_printed, name) if name else row.indicator_as_printed
        assert self.state.header is not None
        conflict = False
        for col, value in zip(self.state.header.columns, values, strict=True):
            if not (col and value):
                continue
            if not row.cells[col]:
                row.cells[col] = value
            elif col not in MEASURES or _continues(row.cells[col], value):  # a Period cell is checked below
                row.cells[col] = join_fragment(row.cells[col], value)
            else:
                conflict = True  # both readings are in raw_text; the row's own value stays
        row.raw_text += "\n" + line.text
        # the cells are checked again as merged: a flag of the half row before the break may no longer hold
        kept = [f for f in (row.quality_flag or "").split(",") if f and f not in (TWO_VALUES_IN_CELL, NOT_A_PERIOD)]
        new = ([CONTINUATION_CONFLICT] if conflict else []) + ([line.flag] if line.flag else [])
        flags = list(dict.fromkeys([*kept, *new, *filter(None, [cell_flag(row.cells)])]))
        row.quality_flag = ",".join(flags) or None

    def _append_to_name(self, row: IndicatorRow, name: str, line: TextLine) -> None:
        row.indicator_as_printed = strip_footnote_marker(f"{row.indicator_as_printed} {name}")
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
    lines, partial = read_in_part(extracted.lines)
    extracted = ExtractedText(extracted.file, lines)
    meta: ReportMeta = apply_manifest(infer_report_meta(lines), manifest_entry)
    if not has_tab_tables(lines):
        report = parse_flat_report(extracted, meta)
    else:
        parser = TabTableParser(report_year=meta.year or 0, report_tertial=meta.tertial)
        parser.run(lines)
        report = ParsedReport(extracted.file, meta, parser.goals.goals, parser.rows, parser.warnings)
    report.warnings[:0] = [f"{extracted.file.name}: {PARTIAL_WARNING}: {note}" for note in partial]
    return report
