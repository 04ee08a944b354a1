"""Parse indicator tables out of a report text that lost its table layout (sample 002).

Two flattenings reach this module. Read row by row (a name, then that row's values: sample 002), the
text is read here. Read box by box (pdfminer.six's default extract_text: the name column first, then
the header, then the values) it goes to flat_boxes.py; parse_flat_report tells the two apart
(flat_boxes.read_boxes). Both readers build on the lines, blocks, value cells and flags of
flat_vocab.py and on the placement rules of flat_placement.py.

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

Flags (IndicatorRow.quality_flag): listed in flat_vocab.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.common.models import (
    VALUE_COLUMNS,
    ExtractedText,
    IndicatorRow,
    ParsedReport,
    ReportMeta,
    TextLine,
)
from pipeline.common.periods import parse_period_cell
from pipeline.parse.flat_box_cells import box_rows
from pipeline.parse.flat_boxes import BoxReading, read_boxes
from pipeline.parse.flat_placement import Placement, RowContext, about_people, place_values
from pipeline.parse.flat_vocab import (
    _COMMENT_HEAD,
    _YEAR,
    FLAG_PRECEDENCE,
    NAME_FRAGMENT,
    NUMBER_GROUPING_UNCERTAIN,
    PERIOD_MISSING,
    PLACEMENT_UNCERTAIN,
    UNKNOWN_COLUMN,
    Block,
    ValueRun,
    current_goal_kind,
    is_activity_header,
    is_comment_head,
    is_goal_marker,
    is_header_start,
    page_furniture,
    read_header,
    resolve_thousands,
    split_blocks,
    split_name_and_values,
    table_of_contents,
)
from pipeline.parse.goals import GoalTracker
from pipeline.parse.vocab import (
    TableHeader,
    clean_cell,
    is_period_like,
    join_fragment,
    strip_glyphs,
)

# The name column wraps at about 30 characters; a longer line with no values is prose or a comment.
NAME_LINE_MAX_CHARS = 45


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
    report_year: int | None = None  # header years and tertials are judged against these
    report_tertial: int | None = None
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
        found = read_header(blocks, i, self.report_year, self.report_tertial)
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
    if None in raw.header.columns:
        # a column we do not load (another year's): which value is its cannot be told without the
        # table's layout, so none is placed; they stay in raw_text
        values, flags = [], [UNKNOWN_COLUMN, *flags]
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
    read = [parse_period_cell(p) for p in periods]
    counts = Counter((str(r.number), str(r.year)) for r in read if r.kind == "tertial" and r.number in (1, 2))
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


def read_flat_tables(lines: Sequence[TextLine], file_name: str = "", meta: ReportMeta | None = None) -> FlatTableReader:
    """Goals and rows (values not yet placed) of a text without table layout."""
    blocks = split_blocks(lines, page_furniture(lines), table_of_contents(lines))
    reader = FlatTableReader(file_name=file_name)
    if meta is not None:
        reader.report_year, reader.report_tertial = meta.year or 0, meta.tertial
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
    file_name = extracted.file.name
    boxes = read_boxes(extracted.lines)
    if boxes.box_order:
        return _box_report(extracted, meta, boxes)
    reader = read_flat_tables(extracted.lines, file_name, meta)
    warnings = fill_meta_from_periods(meta, [r.period for r in reader.rows], file_name)
    rows = place_rows(reader.rows, meta)
    if not rows:
        warnings.append(f"{file_name}: no indicator table found in a text without table layout")
    else:
        warnings.append(_summary(file_name, reader.table_count, rows))
    return ParsedReport(extracted.file, meta, reader.goals.goals, rows, reader.warnings + warnings)


def _box_report(extracted: ExtractedText, meta: ReportMeta, boxes: BoxReading) -> ParsedReport:
    file_name = extracted.file.name
    rows = box_rows(boxes.regions, meta)
    warnings = fill_meta_from_periods(meta, [r.cells["period"] for r in rows], file_name)
    tables = sum(max(r.tables, 1) for r in boxes.regions)
    if not rows:
        warnings.append(f"{file_name}: no indicator table found in a text without table layout")
    else:
        warnings.append(_summary(file_name, tables, rows).replace("table layout lost", "table layout lost, box order"))
    return ParsedReport(extracted.file, meta, boxes.goals.goals, rows, warnings)
