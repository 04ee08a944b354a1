"""The words and cells of indicator tables, shared by both table parsers (tables.py and the flat-text readers).

Header vocabulary (which printed header word names which value column), cell cleaning, the period
pattern and the joining of a cell carried over a page break: one place, so the parsers cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.common.periods import looks_like_period
from pipeline.common.reference import GENDER_GLYPH, KNOWN_UNITS, LEADING_GLYPHS

# --- cell text -------------------------------------------------------------------------------

_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")


def clean_cell(text: str) -> str:
    """Drop markup (<p>, <i>, *...*) and fold runs of white space, keeping no-break spaces out."""
    text = _EMPHASIS.sub(r"\1", _MARKUP.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def strip_glyphs(name: str) -> tuple[str, bool]:
    """Remove status glyphs before a name; say whether the gender glyph ♀ was among them."""
    stripped = name.lstrip(LEADING_GLYPHS)
    return stripped.strip(), GENDER_GLYPH in name[: len(name) - len(stripped)]


# A footnote marker after a name ("… tobak 1)", "… tobak*", "… tobak¹"); the note itself stands under the table.
_FOOTNOTE_MARKER = re.compile(r"(?:\s+\d{1,2}\)|\s*\*+|\s*[¹²³⁴⁵⁶⁷⁸⁹]+)$")


def strip_footnote_marker(name: str) -> str:
    """'Andel elever som använder tobak 1)' -> 'Andel elever som använder tobak'; '(nivå 1)' stays."""
    m = _FOOTNOTE_MARKER.search(name)
    if m is None or (m.group().strip().endswith(")") and name.count("(") >= name.count(")")):
        return name
    return name[: m.start()].rstrip()


def is_period_like(text: str) -> bool:
    """The shape of a Period cell, by the one period grammar (pipeline/common/periods.py)."""
    return looks_like_period(text)


# --- headers ---------------------------------------------------------------------------------


def _header_key(cell: str) -> str:
    """'Periode ns utfall' -> 'periodensutfall'; the OCR-like 'Arsmål' reads as 'årsmål'."""
    key = re.sub(r"\s+", "", cell).lower()
    return re.sub(r"(?<![a-zåäö])arsmål", "årsmål", key)


def _column_for(key: str) -> str | None:
    if _names_two_measures(key):
        return None
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


def _names_two_measures(key: str) -> bool:
    """A header cell with the words of two measures ("Periodens Utfall utfall män/pojkar",
    "PeriodensÅrsmål"): header words run over into the next cell, where a producer lets a word wider
    than its column overflow. Which column is whose cannot be told: the cell names none."""
    anchors = key.count("utfall") + ("prognos" in key) + ("mål" in key)
    return anchors > 1


# A year in a header cell ("Utfall 2016", "Årsmål 2017") and the part of the year ("T1", "tertial 1").
_HEADER_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_HEADER_PART = re.compile(r"\b(?:T|tertial)\s*([123])\b", re.IGNORECASE)


def _dated_column(
    cell: str, report_year: int | None, report_tertial: int | None = None
) -> tuple[str | None, str | None]:
    """(column, previous label) of a header cell, judging a year and a tertial in it against the report's.

    A measure header with a year names this report's column only for the report's own year, and with a
    tertial only for the report's own tertial ("Utfall T1 2017" is no outcome of a T2 or an annual
    report); "Utfall 2016" (no part of the year) in a 2017 report is last year's annual outcome, like
    "Periodens utfall VB 2016". Any other year or tertial (or an unknown report year: 0) names no column
    we load, so its cells are flagged, never put into a neighbouring measure. `report_year` None: years
    and tertials are not judged.
    """
    text = clean_cell(cell)
    years = _HEADER_YEAR.findall(text)
    part = _HEADER_PART.search(text)
    key = _header_key(_HEADER_YEAR.sub(" ", _HEADER_PART.sub(" ", text)))
    column = _column_for(key)
    if column == "previous_outcome":
        return column, f"VB {years[-1]}" if years else None
    if report_year is None or column in (None, "period"):
        return column, None
    if part is not None and int(part.group(1)) != report_tertial:
        return None, None
    if not years:
        return column, None
    year = int(years[-1])
    if year == report_year:
        return column, None
    if year == report_year - 1 and column == "outcome" and part is None:
        return "previous_outcome", f"VB {year}"
    return None, None


_SUBHEADER_WORD = re.compile(r"total|män|pojk|kvinn|flick", re.IGNORECASE)


def span_header(top: Sequence[str], sub: Sequence[str]) -> list[str]:
    """One header row of two: a spanning cell ("Utfall") joined to each cell it stands over
    ("Totalt", "Män/pojkar", "Kvinnor/flickor"); a cell of either row alone stays as it is."""
    if len(top) == 1:  # a spanning cell with no position: it stands over the cells it can span
        first = next((i for i, c in enumerate(sub) if _SUBHEADER_WORD.search(c)), 0)
        top = [""] * first + [top[0]]
    width = max(len(top), len(sub))
    top = [clean_cell(c) for c in top] + [""] * (width - len(top))
    sub = [clean_cell(c) for c in sub] + [""] * (width - len(sub))
    cells, span = [], ""
    for t, s in zip(top, sub, strict=True):
        span = t or (span if _SUBHEADER_WORD.search(s) else "")
        cells.append(f"{span} {s}".strip())
    if "Indikator" in (top[0], sub[0]):
        cells[0] = "Indikator"
    return cells


def _filled(cells: Sequence[str]) -> list[str]:
    return [c for c in (clean_cell(c) for c in cells[1:]) if c]


def is_subheader_row(cells: Sequence[str]) -> bool:
    """The lower row of a two-row header: "Totalt | Män/pojkar | Kvinnor/flickor" (beside other header
    words, or under "Indikator"), no name, no number, no "Utfall" (that is the spanning row's)."""
    filled = _filled(cells)
    return (
        clean_cell(cells[0]) in ("", "Indikator")
        and any(_SUBHEADER_WORD.search(c) for c in filled)
        and not any(re.search(r"\d|utfall", c, re.IGNORECASE) for c in filled)
        and all(_SUBHEADER_WORD.search(c) or _dated_column(c, None)[0] for c in filled)
    )


def is_spanning_row(cells: Sequence[str]) -> bool:
    """The upper row of a two-row header standing above "Indikator": header words only, one of them
    "Utfall"; or "Utfall" alone on a line (a PDF reads a cell centred over three columns so)."""
    if len(cells) == 1:
        text = clean_cell(cells[0])
        return "utfall" in text.lower() and _dated_column(text, None)[0] == "outcome"
    filled = _filled(cells)
    return (
        not clean_cell(cells[0])
        and any("utfall" in c.lower() for c in filled)
        and all(_dated_column(c, None)[0] for c in filled)
    )


def spread_span(cells: Sequence[str]) -> list[str]:
    """A spanning "Utfall" read into one of the cells under it ("Totalt | Utfall Män/pojkar |
    Kvinnor/flickor": a PDF puts a word centred over three columns into the middle one) heads each
    cell of that run of sub-header cells."""
    cells = [clean_cell(c) for c in cells]
    subs = [bool(_SUBHEADER_WORD.search(c)) for c in cells]
    out = list(cells)
    for i, cell in enumerate(cells):
        m = _SUBHEADER_WORD.search(cell)
        if not subs[i] or m is None or "utfall" not in cell[: m.start()].lower():
            continue
        head = cell[: m.start()].strip()
        lo = hi = i
        while lo > 0 and subs[lo - 1]:
            lo -= 1
        while hi + 1 < len(cells) and subs[hi + 1]:
            hi += 1
        for j in range(lo, hi + 1):
            if "utfall" not in cells[j].lower():
                out[j] = f"{head} {cells[j]}"
    return out


@dataclass(frozen=True)
class TableHeader:
    columns: tuple[str | None, ...]  # one per value cell after "Indikator"; None = unknown header word
    previous_label: str | None  # "VB 2013"


def header_columns(
    cells: Sequence[str], report_year: int | None = None, report_tertial: int | None = None
) -> TableHeader:
    """The columns a header names. With the report's year (0 when unknown) and tertial (None in an
    annual report or a plan), the years and tertials in it are judged."""
    dated = [_dated_column(c, report_year, report_tertial) for c in spread_span(cells[1:])]
    labels = [label for _, label in dated if label]
    return TableHeader(tuple(col for col, _ in dated), labels[-1] if labels else None)


def ends_unit(head: str, tail: str) -> bool:
    """'15,6 barn/av' + 'd.': the tail is the rest of the head's last word, which then names a unit."""
    if not head or not tail or any(ch.isdigit() for ch in tail):
        return False
    joined = head.split()[-1].lower() + tail.lower()
    return joined in KNOWN_UNITS or joined.rstrip(".") in KNOWN_UNITS


def join_fragment(head: str, tail: str) -> str:
    """Join the part of a cell carried to the next page: '15,6 barn/av' + 'd.' is one word."""
    if not head:
        return tail
    if not tail:
        return head
    return head + tail if ends_unit(head, tail) else f"{head} {tail}"
