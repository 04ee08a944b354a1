"""Load the staged Parquet files of a build into a new DuckDB warehouse, then swap it in.

Takes the staging folder (reports.parquet, facts/, goals/, quarantine/), the load errors and the
build summary; gives the warehouse file. The new warehouse is written beside the old one under a
temporary name and moved over it with one atomic rename only when it is complete, so a reader
never sees a half-built warehouse and a failed build leaves the previous one in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from pipeline.models import LoadError
from pipeline.reference import DATA_DIR

SQL_DIR = Path(__file__).parent.parent / "sql"
# BI drivers bundle older DuckDB releases; write a storage format 1.x readers can open.
STORAGE_VERSION = "v1.0.0"


def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _statements(script: str) -> list[str]:
    """Statements of a SQL file: split at a ';' that ends a line, once comments are dropped."""
    code = "\n".join(re.sub(r"\s*--.*$", "", ln) for ln in script.splitlines())
    return [s.strip() for s in re.split(r";\s*\n", code + "\n") if s.strip()]


def _substitute(statement: str, params: Mapping[str, str]) -> str:
    for name, value in params.items():
        statement = statement.replace("{" + name + "}", value)
    return statement


def building_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")


def load_warehouse(
    stage_dir: Path,
    warehouse: Path,
    load_errors: Iterable[LoadError],
    summary: Mapping[str, int],
) -> Path:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    tmp = building_path(warehouse)
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(str(tmp))} AS wh (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("USE wh")
        for stmt in _statements(read_sql("schema.sql")):
            con.execute(stmt)
        params = {"stage": _quote(str(stage_dir)), "districts_csv": _quote(str(DATA_DIR / "districts.csv"))}
        for stmt in _statements(read_sql("load.sql")):
            con.execute(_substitute(stmt, params))
        errors = [(e.file, e.stage, e.reason) for e in sorted(load_errors, key=lambda e: (e.file, e.stage, e.reason))]
        if errors:
            con.executemany("INSERT INTO load_errors VALUES (?, ?, ?)", errors)
        if summary:
            con.executemany("INSERT INTO build_summary VALUES (?, ?)", sorted(summary.items()))
        for stmt in _statements(read_sql("views.sql")):
            con.execute(stmt)
        con.execute("CHECKPOINT wh")
        con.execute("USE memory")
        con.execute("DETACH wh")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, warehouse)  # atomic on one filesystem: readers see the old or the new file
    return warehouse


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(warehouse), read_only=True)
