"""The record of the published warehouse (`.<name>.published.json` beside it, sealed with the warehouse
folder's key, pipeline/common/sealed.py): what it holds (facts per report) and which file it describes,
so the gate compares a new warehouse with the previous one even when that file is locked or damaged;
and whether the warehouse is held open for writing."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.common.sealed import SealBroken, folder_key, read_sealed, write_sealed

log = logging.getLogger(__name__)

# What the published warehouse holds, written beside it at publish: the gate reads the previous
# figures from here, so a warehouse that is locked or damaged cannot turn the comparison off.
RECORD_SUFFIX = ".published.json"
PREVIOUS_COUNTS_SQL = (
    "select r.report_key, r.report_file, count(f.row_no) as rows_before "
    "from dim_report r left join fact_indicator_value f using (report_key) "
    "group by all order by r.report_file"
)


def record_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}{RECORD_SUFFIX}")


def _counts_frame(rows: Iterable[Mapping[str, Any]] = ()) -> pd.DataFrame:
    rows = list(rows)
    return pd.DataFrame(
        {
            "report_key": pd.Series([r["report_key"] for r in rows], dtype="str"),
            "report_file": pd.Series([r["report_file"] for r in rows], dtype="str"),
            "rows_before": pd.Series([r["rows_before"] for r in rows], dtype="int64"),
        }
    )


def _identity(path: Path) -> list[int]:
    """Which file the record describes: a file replaced or changed in place has another identity."""
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def report_counts(database: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(PREVIOUS_COUNTS_SQL).fetchall()
    return [{"report_key": key, "report_file": name, "rows_before": int(n)} for key, name, n in rows]


def write_record(warehouse: Path, reports: list[dict[str, Any]]) -> Path:
    """Record what the just-published warehouse holds (atomically, sealed with the folder's key)."""
    body = {"warehouse": warehouse.name, "identity": _identity(warehouse), "reports": reports}
    path = record_path(warehouse)
    write_sealed(path, json.dumps(body).encode("utf-8"), folder_key(warehouse.parent))
    return path


_reported: set[tuple] = set()  # records this process said failed their check: one line each


def read_record(warehouse: Path) -> dict[str, Any] | None:
    """The record written at publish, or None when there is none or it fails its check (then one line
    says so, and the figures are read from the warehouse itself)."""
    path = record_path(warehouse)
    try:
        data = json.loads(read_sealed(path, folder_key(warehouse.parent)))
        return {k: data[k] for k in ("warehouse", "identity", "reports")}
    except FileNotFoundError:
        return None
    except (OSError, SealBroken, ValueError, KeyError, TypeError) as exc:
        try:
            seen = (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        except OSError:
            seen = (str(path),)
        if seen not in _reported:
            _reported.add(seen)
            log.warning("%s failed its check (%s); not used: what the warehouse holds is read from it", path.name, exc)
        return None


def published_intact(warehouse: Path) -> bool:
    """Whether the warehouse is the very file this module published (its record says so): only then may
    a build copy its rows, checked when it was built, instead of loading and checking every report.
    A file changed since (written to by hand, replaced, damaged) is loaded whole and checked whole."""
    record = read_record(warehouse) if warehouse.is_file() else None
    return record is not None and record["identity"] == _identity(warehouse)


def held_for_writing(warehouse: Path) -> bool:
    """Whether another process has the warehouse open read-write (DuckDB holds a write lock then)."""
    try:
        fd = os.open(warehouse, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # readers share; only a writer's lock conflicts
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the probe's lock
    return False


def previous_counts(warehouse: Path) -> tuple[pd.DataFrame, str | None]:
    """Facts per report in the current warehouse (empty when there is none), or why they are unknown.

    From the record written at publish when it describes this very file; else from the file itself;
    else from the record even if the file changed since (damaged, or held by a writer). Without
    either the figures are unknown and the gate blocks: never compare against nothing.
    """
    if not warehouse.exists():
        return _counts_frame(), None
    record = read_record(warehouse)
    if record is not None and record["identity"] == _identity(warehouse):
        return _counts_frame(record["reports"]), None
    try:
        return _counts_frame(report_counts(warehouse)), None
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0][:200]
        if record is not None:
            log.warning("cannot read the previous warehouse %s (%s); compared with its record", warehouse, first)
            return _counts_frame(record["reports"]), None
        return _counts_frame(), f"{type(exc).__name__}: {first}"


# --- whether the file reads whole -------------------------------------------------------------

# Every row of every table, hashed: DuckDB checks the checksum of each block it reads, and a count(*)
# alone is answered from metadata without reading a block. One query over all tables, run in parallel.
TABLES_SQL = "select table_name from duckdb_tables() where database_name = current_database() order by 1"
# How DuckDB says a file is damaged (a checksum that does not match, a file cut short, metadata that
# cannot be read); a lock held by another process or a missing table is not damage.
DAMAGE_MARKS = ("Corrupt database file", "Could not read enough bytes", "Serialization Error")


def read_every_table(con: duckdb.DuckDBPyConnection) -> None:
    """Read every block of every table of the connection's current database; duckdb.Error on damage."""
    tables = [name for (name,) in con.execute(TABLES_SQL).fetchall()]
    quoted = ['"' + name.replace('"', '""') + '"' for name in tables]
    if quoted:
        con.execute(" union all ".join(f"select bit_xor(hash(_row)) from {q} as _row" for q in quoted)).fetchall()


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and any(mark in str(exc) for mark in DAMAGE_MARKS)


def warehouse_damage(warehouse: Path) -> str | None:
    """How DuckDB finds the warehouse file damaged (its first line), or None when it reads whole, or is
    missing, held for writing by another process, or not readable for another reason."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            read_every_table(con)
    except duckdb.Error as exc:
        return str(exc).strip().splitlines()[0][:200] if is_damage(exc) else None
    return None
