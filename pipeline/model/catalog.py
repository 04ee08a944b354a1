"""The indicator catalog: one stable key per thing measured, across the names' drift between years.

Two reviewed data files in pipeline/common/data/:
- indicators.csv      indicator_key, indicator (canonical name), better (higher | lower | empty)
- indicator_names.csv name (as printed, normalized), indicator_key: every known variant of a name

A printed name is matched on its match key (case, white space, punctuation and hyphenation folded).
A name the catalog does not know becomes an indicator of its own (key `new-<hash>`), is never merged
silently, and is listed by `indicators catalog --unmatched` with the closest catalog name proposed.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from pipeline.common.reference import DATA_DIR

INDICATORS_CSV = DATA_DIR / "indicators.csv"
NAMES_CSV = DATA_DIR / "indicator_names.csv"
# Below this similarity (0-100) a proposal is noise rather than help for the reviewer.
PROPOSAL_MIN_SCORE = 80.0


# Signs that change what a name measures ("väntetid < 30 dagar" is not "väntetid > 30 dagar"): kept as words.
MEANING_SIGNS = "<>+%≤≥"


def match_key(name: str) -> str:
    """Fold what varies without changing meaning: case, spaces, punctuation, 'LSS- boende'; never the signs
    that change it (MEANING_SIGNS)."""
    text = unicodedata.normalize("NFC", name).lower()
    text = re.sub(r"(\w)-\s+(\w)", r"\1-\2", text)
    text = re.sub(rf"[{MEANING_SIGNS}]", lambda m: f" {m.group(0)} ", text)
    text = re.sub(rf"[^\w\s{MEANING_SIGNS}-]", " ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip(" -")


def new_indicator_key(name: str) -> str:
    return "new-" + hashlib.md5(match_key(name).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class CatalogEntry:
    indicator_key: str
    indicator: str
    better: str | None


@dataclass(frozen=True)
class Match:
    indicator_key: str
    indicator: str
    status: str  # "curated" | "unmatched"
    better: str | None = None
    proposed_key: str | None = None
    proposed_score: float | None = None


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, CatalogEntry]
    names: dict[str, str]  # match key -> indicator_key

    def lookup(self, name: str) -> Match:
        key = self.names.get(match_key(name))
        if key is not None:
            entry = self.entries[key]
            return Match(key, entry.indicator, "curated", entry.better)
        proposed = self.propose(name)
        return Match(new_indicator_key(name), name, "unmatched", None, *(proposed or (None, None)))

    def propose(self, name: str) -> tuple[str, float] | None:
        if not self.names:
            return None
        best = process.extractOne(match_key(name), list(self.names), scorer=fuzz.token_sort_ratio)
        if best is None or best[1] < PROPOSAL_MIN_SCORE:
            return None
        return self.names[best[0]], round(float(best[1]), 1)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def load_catalog() -> Catalog:
    entries = {
        r["indicator_key"]: CatalogEntry(r["indicator_key"], r["indicator"], r.get("better") or None)
        for r in _read_csv(INDICATORS_CSV)
    }
    names = {match_key(r["name"]): r["indicator_key"] for r in _read_csv(NAMES_CSV)}
    unknown = sorted(set(names.values()) - set(entries))
    if unknown:
        raise ValueError(f"{NAMES_CSV.name} names indicator keys missing from {INDICATORS_CSV.name}: {unknown[:5]}")
    return Catalog(entries, names)


def slug(name: str, length: int = 60) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:length].rstrip("-")
