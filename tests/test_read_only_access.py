"""Security basics: only the load step writes the warehouse; `indicators query` cannot; nothing from a
report's contents or name is ever run as SQL, and config paths are quoted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.cli import main, run_build
from pipeline.load import _substitute

from .build_helpers import ROOT, make_raw, query, settings_for, table_checksums, write_t1_report

WRITES = (
    "drop table fact_indicator_value",
    "insert into build_summary values ('forged', 1)",
    "update dim_report set year = 1999",
    "delete from quarantine",
    "create table notes (a int)",
    "create or replace view indicator_values as select 1 as x",
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    out = tmp_path_factory.mktemp("ro")
    settings = settings_for(make_raw(out / "raw", "004"), out / "wh" / "indicators.duckdb")
    assert run_build(settings)[0]
    return settings.warehouse


@pytest.mark.parametrize("sql", WRITES)
def test_query_refuses_writes(warehouse, sql, capsys):
    before = table_checksums(warehouse)
    assert main(["query", "--warehouse", str(warehouse), sql]) == 1
    assert "read-only" in capsys.readouterr().err
    assert table_checksums(warehouse) == before


def _connect_calls(path: Path) -> list[tuple[str, bool]]:
    """(enclosing function, opened read-only?) for each duckdb.connect(...) in a module."""
    calls = []
    for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "connect"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "duckdb"
            ):
                read_only = any(
                    k.arg == "read_only" and getattr(k.value, "value", False) is True for k in node.keywords
                )
                calls.append((func.name, read_only))
    return calls


def test_only_the_load_step_opens_a_database_for_writing():
    writers = {
        (path.name, func)
        for path in sorted((ROOT / "pipeline").glob("*.py"))
        for func, read_only in _connect_calls(path)
        if not read_only
    }
    # build_candidate: an in-memory connection that ATTACHes the new file; record_validation: the
    # same new file, before it is published. Neither ever opens the published warehouse.
    assert writers == {("load.py", "build_candidate"), ("load.py", "record_validation")}


def test_config_values_are_substituted_once():
    statement = "read_parquet({stage} || '/x'), read_csv({districts_csv})"
    params = {"stage": "'/wh/{districts_csv}'", "districts_csv": "'/d.csv'"}
    assert _substitute(statement, params) == "read_parquet('/wh/{districts_csv}' || '/x'), read_csv('/d.csv')"


def test_paths_with_quotes_and_braces_are_quoted(tmp_path):
    odd = tmp_path / "it's {stage} {districts_csv}; drop table x"
    settings = settings_for(make_raw(odd / "raw", "004"), odd / "wh" / "indicators.duckdb")
    ok, summary, _ = run_build(settings)
    assert ok and summary["rows_loaded"] == 10


def test_report_text_and_file_names_are_data_not_sql(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    name = "x'); drop table dim_report; --.txt"
    write_t1_report(
        raw / name,
        "Bromma",
        2015,
        [
            " Andel'); DROP TABLE fact_indicator_value; -- elever\t5,7 %\t6 %\t6 %\t6 %\t4,4 %\tTertial 1 2015",
        ],
    )
    wh = tmp_path / "wh" / "indicators.duckdb"
    ok, _, _ = run_build(settings_for(raw, wh))
    assert ok
    assert query(wh, "select report_file, indicator_as_printed from indicator_values") == [
        (name, "Andel'); DROP TABLE fact_indicator_value; -- elever")
    ]
