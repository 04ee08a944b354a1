"""The words and cells of indicator tables, shared by both table parsers (tables.py and the flat-text readers).

Header vocabulary (which printed header word names which value column), cell cleaning, the period
pattern and the joining of a cell carried over a page break: one place, so the parsers cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.common.reference import GENDER_GLYPH, KNOWN_UNITS, LEADING_GLYPHS

# --- cell text -------------------------------------------------------------------------------

_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
_PERIOD_LIKE = re.compile(
    r"^((Tertial|Halvår|Kvartal|Månad)\s*\d?\s*)?((VB|T[12])\s*)?(19|20)\d{2}$|^(År|Tertial|Halvår|Kvartal|Månad)$",
    re.IGNORECASE,
)


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
