"""Plain data passed between the stages of the flow.

discover -> SourceFile; extract -> ExtractedText (lines with page and line numbers);
parse -> ParsedReport (ReportMeta, Goal, IndicatorRow with raw cell text);
normalize -> Polars frames; validate -> frames split into facts and quarantine; load -> DuckDB.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The value columns of an indicator table, in the order they are printed. One source of truth:
# the parser maps header words onto these keys, normalize turns each into a DOUBLE (+ raw text).
MEASURES: tuple[str, ...] = (
    "outcome",
    "outcome_men",
    "outcome_women",
    "previous_outcome",
    "forecast",
    "target",
    "city_target",
)
# "period" holds the Period cell (reports) or the Periodicitet cell (plans), as printed.
VALUE_COLUMNS: tuple[str, ...] = MEASURES + ("period",)

REPORT_TYPES: tuple[str, ...] = (
    "tertialrapport_1",
    "tertialrapport_2",
    "verksamhetsberattelse",
    "verksamhetsplan",
)


@dataclass(frozen=True)
class SourceFile:
    """One report file found in the raw folder."""

    path: str
    name: str
    sha256: str
    size: int
    kind: str  # "txt" or "pdf"


@dataclass(frozen=True)
class TextLine:
    """One line of extracted text. Table rows keep their cells apart with TABs.

    For a .txt file `page` is None and `line_no` is the 1-based line in the file;
    for a PDF `page` is 1-based and `line_no` is the 1-based line within that page.
    `flag` is a quality flag the extraction already knows for a table row (a tagged PDF's structure tree
    and its drawing disagree), `other_reading` the row as the other reading has it, for raw_text.
    """

    page: int | None
    line_no: int
    text: str
    flag: str | None = None
    other_reading: str = ""


@dataclass
class ExtractedText:
    file: SourceFile
    lines: list[TextLine]


# A PDF read only in part (its cross-reference table is damaged, pdfminer found what it could): its
# extraction starts with a line on page 0 saying so, which the parser turns into a warning.
READ_IN_PART = "\x00read in part: "
PARTIAL_WARNING = "read in part"  # how its warning names it ("<file>: read in part: <why>"); the summary counts them


def read_in_part(lines: list[TextLine]) -> tuple[list[TextLine], list[str]]:
    """The lines without the read-in-part notes, and the notes."""
    notes = [ln.text.removeprefix(READ_IN_PART) for ln in lines if ln.page == 0 and ln.text.startswith(READ_IN_PART)]
    if not notes:
        return lines, []
    return [ln for ln in lines if not (ln.page == 0 and ln.text.startswith(READ_IN_PART))], notes


@dataclass
class ReportMeta:
    district: str | None = None
    org_unit: str | None = None
    report_type: str | None = None
    year: int | None = None
    tertial: int | None = None
    # where each field came from ("cover", "text", "manifest"), for the build summary
    evidence: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        need = ["district", "report_type", "year"]
        if self.report_type in ("tertialrapport_1", "tertialrapport_2"):
            need.append("tertial")
        return [name for name in need if getattr(self, name) is None]

    def from_body(self) -> bool:
        """Whether council, report type or year were read from the body (no cover, no manifest row): a guess."""
        return any(self.evidence.get(name) == "text" for name in ("district", "report_type", "year"))


@dataclass
class Goal:
    """A goal heading of the report: inriktningsmål, KF goal, council goal or åtagande."""

    ref: str  # e.g. "1", "1.2", "1.2.N1" (unnumbered council goal #1 under 1.2)
    kind: str  # "inriktningsmal" | "kf_goal" | "namndmal" | "atagande"
    text: str
    parent_ref: str | None
    assessment: str | None = None  # "helt" | "delvis" | "inte"
    source_page: int | None = None
    source_line: int | None = None


@dataclass
class IndicatorRow:
    """One indicator row of one table, cells as printed (normalize makes numbers of them)."""

    table_no: int
    row_no: int  # 1-based position of the row among the report's indicator rows
    indicator_as_printed: str
    cells: dict[str, str]  # VALUE_COLUMNS key -> cell text as printed ("" when empty)
    previous_label: str | None  # e.g. "VB 2013", from the header of the previous-year column
    goal_ref: str | None
    by_gender: bool = False  # ♀ before the name
    comment: str | None = None
    source_page: int | None = None
    source_line: int = 0
    quality_flag: str | None = None
    raw_text: str = ""  # the source line(s) of the row, for a person checking a flag


@dataclass
class ParsedReport:
    file: SourceFile
    meta: ReportMeta
    goals: list[Goal]
    rows: list[IndicatorRow]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoadError:
    """A file (or part of one) that could not be used, with the stage and a one-line reason."""

    file: str
    stage: str
    reason: str


# --- a parsed report as plain data (the per-report cache keeps it as JSON) ----------------------


def report_to_plain(report: ParsedReport) -> dict:
    """A ParsedReport as JSON-ready dicts and lists; report_from_plain gives it back equal."""
    return asdict(report)


def report_from_plain(data: dict) -> ParsedReport:
    """The ParsedReport of report_to_plain's output. A missing or unknown field raises TypeError or KeyError."""
    return ParsedReport(
        file=SourceFile(**data["file"]),
        meta=ReportMeta(**data["meta"]),
        goals=[Goal(**g) for g in data["goals"]],
        rows=[IndicatorRow(**r) for r in data["rows"]],
        warnings=list(data["warnings"]),
    )
