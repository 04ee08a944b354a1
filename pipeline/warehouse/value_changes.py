"""The value-change check: a published report read again by another version of the code (or of a
library) must give the values it gave, or say which changed.

A report whose content, file name and manifest row are those published, but whose cached result is
another (its cache key differs only in the code version), was read again. Every value of it is compared
with the one published (sql/holdback/value_changes.sql). Changed values are a warning in load_errors
with examples; when more than `limit` of a report's published values changed (VALUE_CHANGE_LIMIT,
INDICATORS_VALUE_CHANGE_LIMIT) the report is held back (pipeline/warehouse/holdback.py): its published
rows stay, and the new reading waits until someone looks at the examples and accepts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline.common.paths import SQL_DIR
from pipeline.warehouse.holdback import Verdict

log = logging.getLogger(__name__)

# A report more than this share of whose published values read differently now is held back.
VALUE_CHANGE_LIMIT = 0.1
SHOWN = 3
CHECK = "published_values_kept()"


@dataclass(frozen=True)
class ValueChanges:
    report_key: str
    report_file: str
    published: int  # values the published version holds
    changed: int  # values that differ now (a value that appears or goes counts)
    examples: tuple[tuple[str, str, float | None, float | None], ...]  # (name, measure, published, now)

    @property
    def share(self) -> float:
        return self.changed / max(self.published, 1)

    def text(self) -> str:
        shown = "; ".join(f"'{n}' {m} {_value(old)} → {_value(new)}" for n, m, old, new in self.examples[:SHOWN])
        return f"{self.changed} of {self.published} published values read differently now (e.g. {shown})"

    def verdict(self, limit: float) -> Verdict:
        return Verdict(
            ["fact_indicator_value"],
            [CHECK],
            f"{self.text()}: more than {limit:.0%} of its values changed on reading it again with another "
            "version of the code or a library; compare the examples with the report, and if the new reading is "
            "right, build once with INDICATORS_VALUE_CHANGE_LIMIT=1",
        )


def _value(v: float | None) -> str:
    return "NULL" if v is None else f"{v:g}"


def _reread(stage_dir: Path, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Staged reports read again: the same content, name and manifest row as published (the first and
    last part of the cache key), another code version (the middle part)."""
    staged = pl.read_parquet(stage_dir / "reports.parquet").select("report_key", "report_file", "cache_key")
    published = dict(
        con.execute("select substr(name, 8), value from build_state where starts_with(name, 'report ')").fetchall()
    )
    reread = {}
    for key, name, cache_key in staged.iter_rows():
        before = (published.get(key) or "").split(".")
        now = (cache_key or "").split(".")
        if len(before) == 3 and len(now) == 3 and before[::2] == now[::2] and before[1] != now[1]:
            reread[key] = name
    return reread


def value_changes(stage_dir: Path, warehouse: Path) -> list[ValueChanges]:
    """Per published report read again: its values against the published ones (none when there is no
    published warehouse to read)."""
    if not warehouse.is_file():
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            reread = _reread(stage_dir, con)
            files = [str(p) for p in (stage_dir / "valid" / f"{k}.parquet" for k in sorted(reread)) if p.is_file()]
            if not files:
                return []
            con.execute("SET VARIABLE vc_keys = ?", [sorted(reread)])
            con.execute("SET VARIABLE vc_valid = ?", [files])
            rows = con.execute((SQL_DIR / "holdback" / "value_changes.sql").read_text(encoding="utf-8")).fetchall()
    except duckdb.Error as exc:  # locked or damaged: the gate's own checks say what they can
        log.info("published values not compared (%s)", str(exc).splitlines()[0][:120])
        return []
    return [
        ValueChanges(
            key,
            reread[key],
            published,
            changed,
            tuple((e["name"], e["measure"], e["old"], e["new"]) for e in examples or []),
        )
        for key, published, changed, examples in rows
    ]
