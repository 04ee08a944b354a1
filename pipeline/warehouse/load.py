"""Load the staged Parquet files of a build into a new DuckDB warehouse, then swap it in.

Takes the staging folder (reports.parquet, facts/, goals/, quarantine/), the load errors and the
build summary; gives the warehouse file. The new warehouse is written beside the old one under a
temporary name and moved over it with one atomic rename only when it is complete, so a reader
never sees a half-built warehouse and a failed build leaves the previous one in place.
build_candidate writes the new file, record_validation adds the gate's results to it, publish
renames it; pipeline/warehouse/gates.py runs the quality gate between them. These are the only writers.

When the published warehouse was built by the same code, the new file starts as a copy of it and
only the reports that changed, came or went are deleted and loaded (sql/patch.sql), with what
depends on all reports derived again; otherwise it is loaded whole (sql/load.sql). Both end in the
same tables (tests/test_incremental.py). The previous file is only read, to copy it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.common.code_version import CODE_VERSION
from pipeline.common.faults import fault_point
from pipeline.common.models import LoadError
from pipeline.common.paths import SQL_DIR
from pipeline.common.reference import DATA_DIR
from pipeline.warehouse.published import read_every_table

log = logging.getLogger(__name__)

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


# build_state rows: the code that built the file, and per report the cached result it was loaded from
CODE_KEY = "code"
REPORT_KEY_PREFIX = "report "

# Views whose rows the build stores once, as a table of the same name, columns, order and comments:
# each query would recompute window functions over every fact. sql/views.sql stays their definition.
MATERIALIZED_VIEWS = ("target_attainment",)


def materialize(con: duckdb.DuckDBPyConnection, view: str) -> None:
    comment = con.execute("select comment from duckdb_views() where view_name = ?", [view]).fetchone()[0]
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where table_name = ? and comment is not null", [view]
    ).fetchall()
    con.execute(f"CREATE TABLE _{view} AS SELECT * FROM {view}")
    con.execute(f"DROP VIEW {view}")
    con.execute(f"ALTER TABLE _{view} RENAME TO {view}")
    if comment:
        con.execute(f"COMMENT ON TABLE {view} IS {_quote(comment)}")
    for column, text in columns:
        con.execute(f'COMMENT ON COLUMN {view}."{column}" IS {_quote(text)}')


def building_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")


def leftover_building_files(warehouse: Path) -> list[Path]:
    """Half-built files (and WALs) of killed builds; only safe to remove with the build lock held."""
    return sorted(warehouse.parent.glob(f".{warehouse.name}.building-*"))


def _run_script(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, str]) -> None:
    statements = _statements(read_sql(name))
    for i, stmt in enumerate(statements):
        if name in ("load.sql", "patch.sql") and i == len(statements) // 2:
            fault_point("load:midway")
        con.execute(_substitute(stmt, params))


def _load_whole(con: duckdb.DuckDBPyConnection, tmp: Path, params: Mapping[str, str]) -> None:
    con.execute(f"ATTACH {_quote(str(tmp))} AS wh (STORAGE_VERSION '{STORAGE_VERSION}')")
    con.execute("USE wh")
    for stmt in _statements(read_sql("schema.sql")):
        con.execute(stmt)
    fault_point("load:schema")
    for name in ("staged.sql", "load.sql", "reports.sql", "facts.sql"):
        _run_script(con, name, params)
    for stmt in _statements(read_sql("views.sql")) + _statements(read_sql("comments.sql")):
        con.execute(stmt)
    for view in MATERIALIZED_VIEWS:
        materialize(con, view)


def _changed_reports(con: duckdb.DuckDBPyConnection, stage: str) -> tuple[list[str], list[str]] | None:
    """(gone, added): reports of the attached copy whose cached result is not the one staged now, and
    staged reports the copy does not hold as staged; None when another version of the code built it."""
    built = dict(con.execute("select name, value from build_state").fetchall())
    if built.get(CODE_KEY) != CODE_VERSION:
        return None
    before = {k[len(REPORT_KEY_PREFIX) :]: v for k, v in built.items() if k.startswith(REPORT_KEY_PREFIX)}
    now = dict(con.execute(f"select report_key, cache_key from read_parquet({stage} || '/reports.parquet')").fetchall())
    gone = sorted(k for k, v in before.items() if now.get(k) != v)
    added = sorted(k for k, v in now.items() if before.get(k) != v)
    return gone, added


def reports_to_load(stage_dir: Path, warehouse: Path) -> list[str] | None:
    """The staged reports whose rows a build loads now (new, or changed since the published file was
    built), read from the published file without copying it; None when it cannot be patched (all load)."""
    if not warehouse.is_file() or warehouse.with_name(warehouse.name + ".wal").exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            changed = _changed_reports(con, _quote(_glob_literal(str(stage_dir))))
    except duckdb.Error:
        return None
    return None if changed is None else changed[1]


def _patch_copy(
    con: duckdb.DuckDBPyConnection, warehouse: Path, tmp: Path, params: Mapping[str, str]
) -> list[str] | None:
    """Start from a copy of the published warehouse and load only what changed; gives the reports whose
    rows were loaded now, or None (and no copy) when it cannot be: no warehouse, a write-ahead log beside
    it, another code version, unreadable."""
    if not warehouse.is_file() or warehouse.with_name(warehouse.name + ".wal").exists():
        return None
    shutil.copyfile(warehouse, tmp)
    try:
        con.execute(f"ATTACH {_quote(str(tmp))} AS wh")
        con.execute("USE wh")
        read_every_table(con)  # a copy that does not read whole is not patched
        changed = _changed_reports(con, params["stage"])
    except duckdb.Error as exc:
        log.info("previous warehouse not reused (%s): loading whole", str(exc).splitlines()[0][:120])
        changed = None
    if changed is None:
        con.execute("USE memory")
        con.execute("DETACH DATABASE IF EXISTS wh")
        tmp.unlink(missing_ok=True)
        return None
    gone, added = changed
    for table, keys in (("gone", gone), ("added", added)):
        con.execute(f"CREATE TEMP TABLE {table} (report_key VARCHAR)")
        if keys:
            con.executemany(f"INSERT INTO {table} VALUES (?)", [(k,) for k in keys])
    fault_point("load:schema")
    for name in ("staged.sql", "patch.sql", "reports.sql", "facts.sql"):
        _run_script(con, name, params)
    _run_script(con, "touched_series.sql", params)
    for view in MATERIALIZED_VIEWS:
        refresh_touched(con, view)
    log.info("warehouse patched: %d reports loaded, %d removed or replaced", len(added), len(gone))
    # added, and unchanged reports some of whose rows were loaded again (their indicator's unit changed)
    loaded = con.execute("SELECT DISTINCT report_key FROM loaded").fetchall()
    return sorted(set(added) | {k for (k,) in loaded})


# What a materialized view is derived from, base first: its rows of one series (indicator, council,
# unit) come from that series' observations alone.
SERIES_CHAIN = ("indicator_observations", "indicator_latest_revision", "indicator_series", "target_attainment")
TOUCHED = "touched_"


def refresh_touched(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Derive a materialized view's rows again for the series a patch changed (temp table touched_series,
    sql/touched_series.sql), from its definition in sql/views.sql with every view it is derived from
    read over those series' observations (temp view touched_observations) only."""
    definitions = {s.split()[2]: s for s in _statements(read_sql("views.sql")) if s.startswith("CREATE VIEW ")}
    renamed = re.compile(r"\b(" + "|".join(SERIES_CHAIN) + r")\b")
    for name in SERIES_CHAIN[: SERIES_CHAIN.index(view) + 1]:
        body = definitions[name].split(" AS", 1)[1]
        body = renamed.sub(lambda m: TOUCHED + m.group(1), body)
        body = re.sub(r"\bfact_observation\b", f"{TOUCHED}observations", body)
        con.execute(f"CREATE TEMP VIEW {TOUCHED}{name} AS{body}")
    con.execute(
        f"DELETE FROM {view} WHERE (indicator_key, district_code, coalesce(org_unit_key, '')) IN "
        "(SELECT (indicator_key, district_code, unit_key) FROM touched_series)"
    )
    con.execute(f"INSERT INTO {view} SELECT * FROM {TOUCHED}{view}")


@dataclass
class Candidate:
    """A complete new warehouse, not yet published."""

    path: Path
    # the reports whose rows this build loaded; None when it loaded every report (the file was loaded
    # whole). The others are rows of the published file, copied as they were checked when it was built.
    loaded: list[str] | None


def build_candidate(
    stage_dir: Path,
    warehouse: Path,
    load_errors: Iterable[LoadError],
    summary: Mapping[str, int],
    reuse: bool = True,
) -> Candidate:
    """Write a complete new warehouse beside the current one. Nothing is swapped yet. With `reuse`, a
    published file built by the same code is copied and patched instead of loading every report."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    tmp = building_path(warehouse)
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    params = {
        "stage": _quote(_glob_literal(str(stage_dir))),
        "districts_csv": _quote(_glob_literal(str(DATA_DIR / "districts.csv"))),
    }
    con = duckdb.connect()
    try:
        loaded = _patch_copy(con, warehouse, tmp, params) if reuse else None
        if loaded is None:
            _load_whole(con, tmp, params)
        con.execute("INSERT INTO build_state VALUES (?, ?)", [CODE_KEY, CODE_VERSION])
        errors = sorted((e.file, e.stage, e.reason) for e in load_errors)
        if errors:  # one statement of three lists: a row at a time, 100,000 empty files took minutes
            con.execute(
                "INSERT INTO load_errors SELECT * FROM "
                "(SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))",
                [list(column) for column in zip(*errors, strict=True)],
            )
        if summary:
            con.executemany("INSERT INTO build_summary VALUES (?, ?)", sorted(summary.items()))
        con.execute("CHECKPOINT wh")
        con.execute("USE memory")
        con.execute("DETACH wh")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    return Candidate(tmp, loaded)


def record_validation(
    candidate: Path,
    rows: list[tuple],
    summary: Mapping[str, int],
    state: Mapping[str, str] | None = None,
    shares: tuple[list[str], list[tuple[str, str, str]]] | None = None,
) -> None:
    """Add the build's validation results and gate figures to the new warehouse (still unpublished), and
    what it was built from (build_state: the fingerprint of its inputs, pipeline/build/incremental.py).
    `shares`: the reports the gate checked, and their validation_shares rows, which replace theirs."""
    con = duckdb.connect(str(candidate))
    try:
        if shares is not None:
            checked, share_rows = shares
            con.execute(
                "DELETE FROM validation_shares WHERE list_contains(?::VARCHAR[], report_key) "
                "OR report_key NOT IN (SELECT report_key FROM dim_report)",
                [checked],
            )
            if share_rows:  # one statement, not one per row: a whole load has a share per report and suite
                columns = [list(c) for c in zip(*share_rows, strict=True)]
                con.execute(
                    "INSERT INTO validation_shares SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                    "unnest(?::VARCHAR[])",
                    columns,
                )
        if rows:
            placeholders = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO validation_results VALUES ({placeholders})", rows)
        if summary:
            con.executemany("INSERT OR REPLACE INTO build_summary VALUES (?, ?)", sorted(summary.items()))
        if state:
            con.executemany("INSERT OR REPLACE INTO build_state VALUES (?, ?)", sorted(state.items()))
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


def connect_read_only(
    warehouse: Path, write_dir: Path | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """The warehouse for people and tools: read-only, no files outside it, configuration locked.

    With external access off DuckDB reads and writes no file but the warehouse (and `write_dir`,
    the export folder, when given): no read_csv/read_text/glob of other paths, no COPY elsewhere, no
    ATTACH, no INSTALL or LOAD; with the configuration locked no statement can turn that back on.
    A `memory_limit` ('2GB') bounds what its statements may hold, with nothing spilled to disk (by
    default DuckDB would spill into a folder beside the warehouse): a statement that needs more
    fails with DuckDB's OutOfMemoryException.
    """
    config = dict(LOCKED_CONFIG)
    if memory_limit is not None:  # set before the configuration is locked, as everything here
        config |= {"memory_limit": memory_limit, "temp_directory": ""}
    con = duckdb.connect(str(warehouse), read_only=True, config=config)
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
