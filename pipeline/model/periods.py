"""What report periods and Period cells mean. One source of truth for period keys and dates.

A report covers a period: T1 = January–April, T2 = January–August, the annual report (VB) the whole
year, a plan (VP) the year it plans. A row's Period cell says what its outcome refers to:
"Tertial 1 2014" (January–April 2014), "2014" or "VB 2013" (the whole year), "Halvår 1 2014"
(January–June); in plans, "År" / "Tertial" / "Halvår" say how often it is measured (periodicity).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

REPORT_PERIOD_CODES = {
    "tertialrapport_1": "T1",
    "tertialrapport_2": "T2",
    "verksamhetsberattelse": "VB",
    "verksamhetsplan": "VP",
}
FREQUENCIES = {
    "år": "yearly",
    "tertial": "tertial",
    "halvår": "half-yearly",
    "kvartal": "quarterly",
    "månad": "monthly",
}

_TERTIAL = re.compile(r"^Tertial\s*([123])\s*((?:19|20)\d{2})$", re.IGNORECASE)
_HALF = re.compile(r"^Halvår\s*([12])\s*((?:19|20)\d{2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^Kvartal\s*([1-4])\s*((?:19|20)\d{2})$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:(?:VB|År)\s*)?((?:19|20)\d{2})$", re.IGNORECASE)


@dataclass(frozen=True)
class PeriodMeaning:
    kind: str  # "tertial" | "half_year" | "quarter" | "year" | "frequency" | "unknown"
    year: int | None
    number: int | None  # tertial/half/quarter number
    start: date | None
    end: date | None
    frequency: str | None = None  # plans: how often the indicator is measured


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def report_period_key(report_type: str, year: int) -> str:
    return f"{year}-{REPORT_PERIOD_CODES[report_type]}"


def report_period_label(report_type: str, year: int) -> str:
    names = {
        "tertialrapport_1": "Tertialrapport 1",
        "tertialrapport_2": "Tertialrapport 2",
        "verksamhetsberattelse": "Verksamhetsberättelse",
        "verksamhetsplan": "Verksamhetsplan",
    }
    return f"{names[report_type]} {year}"


def report_period_dates(report_type: str, year: int) -> tuple[date, date]:
    last_month = {"tertialrapport_1": 4, "tertialrapport_2": 8}.get(report_type, 12)
    return date(year, 1, 1), _month_end(year, last_month)


def parse_period_cell(cell: str | None) -> PeriodMeaning:
    text = re.sub(r"\s+", " ", cell or "").strip()
    if not text:
        return PeriodMeaning("unknown", None, None, None, None)
    if text.lower() in FREQUENCIES:
        return PeriodMeaning("frequency", None, None, None, None, FREQUENCIES[text.lower()])
    if m := _TERTIAL.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        # Tertial reports are cumulative: "Tertial 2" is January–August.
        return PeriodMeaning("tertial", y, n, date(y, 1, 1), _month_end(y, 4 * n))
    if m := _HALF.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        return PeriodMeaning("half_year", y, n, date(y, 1, 1) if n == 1 else date(y, 7, 1), _month_end(y, 6 * n))
    if m := _QUARTER.match(text):
        n, y = int(m.group(1)), int(m.group(2))
        return PeriodMeaning("quarter", y, n, date(y, 3 * n - 2, 1), _month_end(y, 3 * n))
    if m := _YEAR.match(text):
        y = int(m.group(1))
        return PeriodMeaning("year", y, None, date(y, 1, 1), date(y, 12, 31))
    return PeriodMeaning("unknown", None, None, None, None)


def previous_year(label: str | None) -> int | None:
    """'VB 2013' -> 2013: the year whose annual outcome the previous-outcome column holds."""
    m = re.search(r"((?:19|20)\d{2})", label or "")
    return int(m.group(1)) if m else None
