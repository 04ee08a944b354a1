"""Load the staged Parquet files of a build into a new DuckDB warehouse, then swap it in.

Takes the staging folder (reports.parquet, facts/, goals/, quarantine/), the load errors and the
build summary; gives the warehouse file. The new warehouse is written beside the old one under a
temporary name and moved over it with one atomic rename only when it is complete, so a reader
never sees a half-built warehouse and a failed build leaves the previous one in place.
build_candidate writes the new file, record_validation adds the gate's results to it, publish
renames it; pipeline/gates.py runs the quality gate between them. These are the only writers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from pipeline.faults import fault_point
from pipeline.models import LoadError
from pipeline.reference import DATA_DIR

SQL_DIR = Path(__file__).parent.parent / "sql"
# BI drivers bundle older DuckDB releases; write a storage format 1.x readers can open.
STORAGE_VERSION = "v1.0.0"


def read_sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _glob_literal(path: str) -> str:
    """A path DuckDB's file readers glob as itself: "[", "*" and "?" in a folder name match only themselves."""
    return "".join(f"[{c}]" if c in "[*?" else c for c in path)


def _statements(script: str) -> list[str]:
    """Statements of a SQL file: split at a ';' that ends a line, once comments are dropped."""
    code = "\n".join(re.sub(r"\s*--.*$", "", ln) for ln in script.splitlines())
    return [s.strip() for s in re.split(r";\s*\n", code + "\n") if s.strip()]


def _substitute(statement: str, params: Mapping[str, str]) -> str:
    """Put the (already quoted) config values in for {name}; one pass, so a value is never rescanned."""
    return re.sub(r"\{(\w+)\}", lambda m: params.get(m.group(1), m.group(0)), statement)


def building_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")


def leftover_building_files(warehouse: Path) -> list[Path]:
    """Half-built files (and WALs) of killed builds; only safe to remove with the build lock held."""
    return sorted(warehouse.parent.glob(f".{warehouse.name}.building-*"))


def build_candidate(
    stage_dir: Path,
    warehouse: Path,
    load_errors: Iterable[LoadError],
    summary: Mapping[str, int],
) -> Path:
    """Write a complete new warehouse beside the current one; gives its path. Nothing is swapped yet."""
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
        fault_point("load:schema")
        params = {
            "stage": _quote(_glob_literal(str(stage_dir))),
            "districts_csv": _quote(_glob_literal(str(DATA_DIR / "districts.csv"))),
        }
        statements = _statements(read_sql("load.sql"))
        for i, stmt in enumerate(statements):
            if i == len(statements) // 2:
                fault_point("load:midway")
            con.execute(_substitute(stmt, params))
        errors = sorted((e.file, e.stage, e.reason) for e in load_errors)
        if errors:
            con.executemany("INSERT INTO load_errors VALUES (?, ?, ?)", errors)
        if summary:
            con.executemany("INSERT INTO build_summary VALUES (?, ?)", sorted(summary.items()))
        for stmt in _statements(read_sql("views.sql")) + _statements(read_sql("comments.sql")):
            con.execute(stmt)
        con.execute("CHECKPOINT wh")
        con.execute("USE memory")
        con.execute("DETACH wh")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    return tmp


def record_validation(candidate: Path, rows: list[tuple], summary: Mapping[str, int]) -> None:
    """Add the build's validation results and gate figures to the new warehouse (still unpublished)."""
    con = duckdb.connect(str(candidate))
    try:
        if rows:
            placeholders = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO validation_results VALUES ({placeholders})", rows)
        if summary:
            con.executemany("INSERT OR REPLACE INTO build_summary VALUES (?, ?)", sorted(summary.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()


def publish(candidate: Path, warehouse: Path) -> Path:
    """Swap the new warehouse in: one atomic rename, readers see the old file or the new one."""
    fault_point("publish")
    _fsync(candidate)
    os.replace(candidate, warehouse)  # atomic on one filesystem: readers see the old or the new file
    _fsync(warehouse.parent)  # the rename itself survives a power cut
    fault_point("published")
    return warehouse


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_warehouse(
    stage_dir: Path,
    warehouse: Path,
    load_errors: Iterable[LoadError],
    summary: Mapping[str, int],
) -> Path:
    """Build and publish without the quality gate (pipeline/gates.py runs the gate in between)."""
    return publish(build_candidate(stage_dir, warehouse, load_errors, summary), warehouse)


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def is_duckdb_file(path: Path) -> bool:
    """Whether a path is a regular file that starts like a DuckDB database (not a folder, not a README)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:
        return False


# Extensions are never fetched or loaded behind a reader's back.
LOCKED_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
}


def connect_read_only(warehouse: Path, write_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse for people and tools: read-only, no files outside it, configuration locked.

    With external access off DuckDB reads and writes no file but the warehouse (and `write_dir`,
    the export folder, when given): no read_csv/read_text/glob of other paths, no COPY elsewhere, no
    ATTACH, no INSTALL or LOAD; with the configuration locked no statement can turn that back on.
    """
    con = duckdb.connect(str(warehouse), read_only=True, config=LOCKED_CONFIG)
    try:
        if write_dir is not None:  # settable only once the database is open, before access is turned off
            folder = str(write_dir.resolve()).rstrip("/") + "/"
            con.execute(f"SET allowed_directories = [{_quote(folder)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con
