"""Reference data shared by the stages: districts, units, glyphs.

The district list is a reviewed data file (pipeline/common/data/districts.csv); everything that needs a
district name or its validity years reads it through this module.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Units seen after numbers in indicator cells. Lower-cased; normalize.py maps variants onto these.
KNOWN_UNITS: frozenset[str] = frozenset(
    {
        "%",
        "st",
        "kr",
        "tkr",
        "mnkr",
        "dagar",
        "dag",
        "år",
        "timmar",
        "tim",
        "min",
        "kwh",
        "kwh/kvm",
        "barn/avd.",
        "barn/avd",
        "poäng",
        "ggr",
        "personer",
        "barn",
        "hushåll",
        "månader",
    }
)

# Glyphs printed before an indicator or activity name (status markers); never part of the name.
LEADING_GLYPHS = "♀♂●◆■□▶▷✓✔○◇▲▼►•🟢🟡🔴⬤ \t\u00a0"
GENDER_GLYPH = "♀"


@dataclass(frozen=True)
class District:
    code: str
    municipality: str
    name: str
    valid_from: int
    valid_to: int | None
    replaced_by: str | None
    variants: tuple[str, ...]


@cache
def districts() -> tuple[District, ...]:
    with open(DATA_DIR / "districts.csv", encoding="utf-8", newline="") as fh:
        return tuple(
            District(
                code=r["district_code"],
                municipality=r["municipality"],
                name=r["district"],
                valid_from=int(r["valid_from"]),
                valid_to=int(r["valid_to"]) if r["valid_to"] else None,
                replaced_by=r["replaced_by"] or None,
                variants=tuple(v for v in r["name_variants"].split("|") if v),
            )
            for r in csv.DictReader(fh)
        )


def squash_hyphens(text: str) -> str:
    """'Rinkeby- Kista' and 'Rinkeby - Kista' are printed forms of 'Rinkeby-Kista'."""
    return re.sub(r"\s*-\s+|\s+-\s*", "-", text)


@cache
def _district_patterns() -> tuple[tuple[re.Pattern[str], District], ...]:
    pats = []
    for d in districts():
        for v in d.variants:
            # A genitive s ("Östermalms stadsdelsnämnd") is allowed; a longer compound is not.
            pats.append((re.compile(rf"(?<![\w-]){re.escape(v)}s?(?![\w-])", re.IGNORECASE), d))
    return tuple(pats)


def find_districts(text: str) -> list[tuple[int, District]]:
    """Every district named in `text`, as (position, district); the longest name wins an overlap."""
    text = squash_hyphens(text)
    hits: list[tuple[int, int, District]] = []
    for pat, d in _district_patterns():
        for m in pat.finditer(text):
            hits.append((m.start(), m.end(), d))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, District]] = []
    covered_until = -1
    for start, end, d in hits:
        if start >= covered_until:
            kept.append((start, d))
            covered_until = end
    return kept


def district_by_name(name: str) -> District | None:
    hits = find_districts(name)
    return hits[0][1] if hits else None
