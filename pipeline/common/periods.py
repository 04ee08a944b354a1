"""The one grammar of a Period cell: what looks like a period, and what a period cell means.

Every parser asks `looks_like_period` where a row's Period cell stands; the normalizer reads its
meaning with `parse_period_cell`; the SQL checks read the columns the normalizer stored from it
(sql/checks/_prelude.sql), so no stage has a grammar of its own. A cell that looks like a period but
does not parse ("Tertial 2014": which tertial?) flags its row and its outcome is filed under no period,
never under the report's own.

Periods read: "Tertial 1 2014" or "T1 2014" (January–April; tertials are cumulative, "Tertial 2" is
January–August), "Halvår 1 2014" (January–June), "Kvartal 3 2014", "2014", "VB 2014" or "År 2014" (the
whole year); in plans "År", "Tertial", "Halvår", "Kvartal", "Månad" say how often it is measured.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

FREQUENCIES = {
    "år": "yearly",
    "tertial": "tertial",
    "halvår": "half-yearly",
    "kvartal": "quarterly",
    "månad": "monthly",
}
PERIOD_KINDS = ("tertial", "half_year", "quarter", "year")  # kinds that name dates

_YEAR = r"((?:19|20)\d{2})"
_TERTIAL = re.compile(rf"^(?:Tertial\s*|T)([123])\s*{_YEAR}$", re.IGNORECASE)
_HALF = re.compile(rf"^Halvår\s*([12])\s*{_YEAR}$", re.IGNORECASE)
_QUARTER = re.compile(rf"^Kvartal\s*([1-4])\s*{_YEAR}$", re.IGNORECASE)
_WHOLE_YEAR = re.compile(rf"^(?:(?:VB|År)\s*)?{_YEAR}$", re.IGNORECASE)
# What a Period cell looks like, read or not: period words, a number, a year. The parsers find a row's
# Period cell by this shape; a cell of this shape that does not parse flags its row.
_SHAPE = re.compile(
    rf"^(?:(?:Tertial|Halvår|Kvartal|Månad|VB|År|T[123])\s*\d?\s*){{0,2}}{_YEAR}$"
    r"|^(?:År|Tertial|Halvår|Kvartal|Månad)$",
    re.IGNORECASE,
)
# A "Tertial N YYYY" cell in running text (a report without a cover is typed from these).
TERTIAL_IN_TEXT = re.compile(rf"\bTertial\s+([12])\s+{_YEAR}\b")


@dataclass(frozen=True)
class PeriodMeaning:
    kind: str  # "tertial" | "half_year" | "quarter" | "year" | "frequency" | "unknown"
    year: int | None
    number: int | None  # tertial/half/quarter number
    start: date | None
    end: date | None
    frequency: str | None = None  # plans: how often the indicator is measured


UNKNOWN = PeriodMeaning("unknown", None, None, None, None)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _fold(cell: str | None) -> str:
    return re.sub(r"\s+", " ", cell or "").strip()


def parse_period_cell(cell: str | None) -> PeriodMeaning:
    """What a Period (or Periodicitet) cell means; kind "unknown" when the grammar does not read it."""
    text = _fold(cell)
    if not text:
        return UNKNOWN
    if text.lower() in FREQUENCIES:
        return PeriodMeaning("frequency", None, None, None, None, FREQUENCIES[text.lower()])
    if m := _TERTIAL.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        return PeriodMeaning("tertial", y, n, date(y, 1, 1), month_end(y, 4 * n))
    if m := _HALF.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        return PeriodMeaning("half_year", y, n, date(y, 1, 1) if n == 1 else date(y, 7, 1), month_end(y, 6 * n))
    if m := _QUARTER.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        return PeriodMeaning("quarter", y, n, date(y, 3 * n - 2, 1), month_end(y, 3 * n))
    if m := _WHOLE_YEAR.match(text):
        y = int(m.group(1))
        return PeriodMeaning("year", y, None, date(y, 1, 1), date(y, 12, 31))
    return UNKNOWN


def looks_like_period(text: str) -> bool:
    """Whether a cell has the shape of a Period cell (where a row's values end), read or not."""
    text = _fold(text)
    return bool(_SHAPE.match(text)) or parse_period_cell(text).kind != "unknown"


def is_unreadable_period(text: str | None) -> bool:
    """A filled Period cell the grammar does not read: its row is flagged, its outcome filed under no period."""
    return bool(_fold(text)) and parse_period_cell(text).kind == "unknown"
