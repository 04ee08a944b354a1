"""The one grammar of a number cell, shared by every stage that asks "is this a number".

A cell is one number in a known form, or it is not read as a number at all:

- an optional sign right before the digits: "-", U+2212 "−", "–" or "+" ("−2", "-1 500");
- an integer, its thousands grouped by a space, no-break space (U+00A0), narrow no-break space (U+202F)
  or thin space (U+2009) ("9 000", "1 234"), or ungrouped ("1123");
- optional decimals after a comma ("5,79");
- an optional unit after it, with or without a space: a known unit ("%", "st", "kr", "barn/avd.",
  "kg CO2 per kg livsmedel") or one word of letters ("foo": loaded, and judged by the unit checks);
- an optional footnote marker at the end ("12 %*", "12 %¹", "12 % 1)"), left out.

Anything else that starts like a number ("0.45", "1.234 kr", "12-15", "5/10", "2019/2020", "3 %  4 %",
"- 70,6", "57,48 % 63,52 %") is not a number in a known form: it must be loaded as NULL and flagged,
never read as its leading digits. A cell of words ("Tas fram av nämnd") is a text cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.common.reference import KNOWN_UNITS

SPACES = " \u00a0\u2009\u202f"
SIGNS = {"-": "-", "−": "-", "–": "-", "+": ""}
DASHES = frozenset({"-", "–", "—", "−"})  # a cell of one dash: no value

# Printed unit spellings (folded to lower case, one space) -> the one form the warehouse uses, so
# "st" and "st.", "kWh/kv m" and "kwh/kvm" agree. A unit not listed here is kept as printed.
UNIT_CANONICAL = {
    "%": "%",
    "procent": "%",
    "st": "st",
    "st.": "st",
    "kr": "kr",
    "tkr": "tkr",
    "mnkr": "mnkr",
    "kwh": "kWh",
    "mwh": "MWh",
    "gwh": "GWh",
    "kwh/kvm": "kWh/kvm",
    "kwh/kv m": "kWh/kvm",
    "kwh/m2": "kWh/kvm",
    "barn": "barn",
    "barn/avd": "barn/avd",
    "barn/avd.": "barn/avd",
    "dag": "dagar",
    "dagar": "dagar",
    "ggr": "ggr",
    "hushåll": "hushåll",
    "min": "min",
    "månader": "månader",
    "personer": "personer",
    "poäng": "poäng",
    "tim": "timmar",
    "timmar": "timmar",
    "år": "år",
    "kg co2 per kg livsmedel": "kg CO2 per kg livsmedel",
}

_S = f"[{SPACES}]"
NUMBER = re.compile(rf"^([-−–+]?)(\d{{1,3}}(?:{_S}\d{{3}})+|\d+)(?:,(\d+))?(?:{_S}*(\S.*))?$")
# A unit no list knows: one word of letters (with "/" or "."), never digits or a second number.
_WORD_UNIT = re.compile(r"^[^\W\d_][^\W\d_./]*(?:[./][^\W\d_]*)*\.?$")
# One whitespace-separated token that is a bare number ("5,79", "−2", "12%"), as the parsers split cells;
# the texts that lost their layout also allow "+" and a leading "±" (flat_vocab).
TOKEN_DIGITS = r"\d+(?:,\d+)?%?"
NUMBER_TOKEN = re.compile(rf"^[-−]?{TOKEN_DIGITS}$")
_THOUSANDS_TOKEN = re.compile(r"^\d{3}(?:,\d+)?%?$")


def fold_unit(unit: str) -> str:
    return re.sub(r"\s+", " ", unit.strip().lower())


def _squashed(unit: str) -> str:
    return re.sub(r"\s+", "", unit.lower())


# Known units with their spaces taken out: a PDF extraction breaks a unit anywhere ("barn/av d.",
# "kWh/k vm", "kg CO2 per kg livsme del"), and the broken unit is still that unit.
_SQUASHED_UNITS = frozenset(_squashed(u) for u in KNOWN_UNITS | UNIT_CANONICAL.keys())


def is_known_unit(unit: str) -> bool:
    return _squashed(unit) in _SQUASHED_UNITS


def is_unit(unit: str) -> bool:
    """A printed unit the grammar accepts: a known one, or one word of letters."""
    return is_known_unit(unit) or bool(_WORD_UNIT.match(unit.strip()))


def canonical_unit(unit: str) -> str:
    return UNIT_CANONICAL.get(fold_unit(unit), unit)


@dataclass(frozen=True)
class Number:
    value: float
    unit: str | None  # as printed; None when the cell prints none


# A footnote marker after a value ("12 %*", "12 %¹", "12 % 1)"): the note stands under the table.
_FOOTNOTE_MARKER = re.compile(rf"(?<=[\d%a-zåäö.]){_S}*(?:\*+|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|(?<=[^\d{SPACES}]){_S}\d\))$")


def strip_footnote(cell: str) -> str:
    """'12 %*' -> '12 %': the marker is no part of the number or its unit."""
    return _FOOTNOTE_MARKER.sub("", cell.strip())


def parse_number(cell: str) -> Number | None:
    """The one number a cell holds, or None when it is not exactly one number in a known form. A
    footnote marker after it ("12 %*") is left out."""
    m = NUMBER.match(strip_footnote(cell))
    if m is None:
        return None
    sign, integer, decimals, unit = m.groups()
    if unit is not None and not is_unit(unit):
        return None
    digits = re.sub(_S, "", integer)
    value = float(f"{SIGNS[sign] if sign else ''}{digits}.{decimals or '0'}")
    return Number(value, unit.strip() if unit else None)


def is_blank(cell: str) -> bool:
    """Empty, or a dash standing for "no value"."""
    text = cell.strip()
    return not text or text in DASHES


def looks_numeric(cell: str) -> bool:
    """Starts like a number (a digit, or a sign or dash then a digit): a value cell, not words."""
    return bool(re.match(rf"^[-−–+]?{_S}*\d", cell.strip()))


def holds_two_values(cell: str) -> bool:
    """'57,48 % 63,52 %' or '- 70,6': the cells of two columns run together. '1 123 st' is one
    number; a text that names numbers ('2 % relativt 2018') is not a value cell at all."""
    tokens = [t for t in cell.split() if t.lower() not in KNOWN_UNITS and t != "%"]
    numbers = 0
    for i, token in enumerate(tokens):
        if NUMBER_TOKEN.match(token):
            previous = tokens[i - 1] if i > 0 else ""
            lead = previous.lstrip("-−–")  # "−1 500": a signed first group
            grouped = lead.isdigit() and len(lead) <= 3 and _THOUSANDS_TOKEN.match(token)
            numbers += 0 if grouped else 1
        elif token in DASHES and i + 1 < len(tokens):
            numbers += 1
        else:
            return False  # words: a text cell
    return numbers > 1
