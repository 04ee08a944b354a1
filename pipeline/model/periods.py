"""What report periods and Period cells mean. One source of truth for period keys and dates.

A report covers a period: T1 = January–April, T2 = January–August, the annual report (VB) the whole
year, a plan (VP) the year it plans. What a row's Period cell means is the one period grammar of
pipeline/common/periods.py.
"""

from __future__ import annotations

import re
from datetime import date

# The grammar of a Period cell lives below every stage; re-exported here for the normalizer.
from pipeline.common.periods import FREQUENCIES, PeriodMeaning, month_end, parse_period_cell

__all__ = [
    "FREQUENCIES",
    "REPORT_PERIOD_CODES",
    "PeriodMeaning",
    "parse_period_cell",
    "previous_year",
    "report_period_dates",
    "report_period_key",
    "report_period_label",
]

REPORT_PERIOD_CODES = {
    "tertialrapport_1": "T1",
    "tertialrapport_2": "T2",
    "verksamhetsberattelse": "VB",
    "verksamhetsplan": "VP",
}


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
    return date(year, 1, 1), month_end(year, last_month)


def previous_year(label: str | None) -> int | None:
    """'VB 2013' -> 2013: the year whose annual outcome the previous-outcome column holds."""
    m = re.search(r"((?:19|20)\d{2})", label or "")
    return int(m.group(1)) if m else None
