"""Security basics: only the load step writes the warehouse; `indicators query` cannot; nothing from a
report's contents or name is ever run as SQL, and config paths are quoted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.cli import main, run_build
from pipeline.warehouse.load import _substitute

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
        for path in sorted((ROOT / "pipeline").rglob("*.py"))
        for func, read_only in _connect_calls(path)
        if not read_only
    }
    # build_candidate: an in-memory connection that ATTACHes the new file; record_validation: the
    # same new file, before it is published; staged_repeats: an in-memory connection over the staged
    # Parquet files, attaching nothing. None ever opens the published warehouse.
    assert writers == {
        ("load.py", "build_candidate"),
        ("load.py", "record_validation"),
        ("holdback.py", "staged_repeats"),
    }


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


# `indicators query` reads the warehouse and nothing else: each refusal says what was refused.
REFUSED = (
    ("select * from read_csv('/etc/passwd')", "files outside the warehouse are not readable"),
    ("select content from read_text('/etc/hostname')", "files outside the warehouse are not readable"),
    ("select count(*) from read_blob('/root/**')", "files outside the warehouse are not readable"),
    ("select * from glob('/etc/*')", "files outside the warehouse are not readable"),
    ("copy dim_report to '{out}'", "reading or writing files is not allowed"),
    ("copy (select 1) to '{out}' (format csv)", "reading or writing files is not allowed"),
    ("export database '{dir}'", "reading or writing files is not allowed"),
    ("attach '{dir}/other.duckdb' as other", "attaching another database is not allowed"),
    ("install httpfs", "installing or loading extensions is not allowed"),
    ("load httpfs", "installing or loading extensions is not allowed"),
    ("set enable_external_access = true", "changing settings (SET/RESET) is not allowed"),
    ("reset lock_configuration", "changing settings (SET/RESET) is not allowed"),
    ("set threads = 1", "changing settings (SET/RESET) is not allowed"),
    ("pragma threads = 1", "changing settings (SET/RESET) is not allowed"),
    ("select 1; drop table dim_report", "one statement per call, got 2"),
    ("select 1; select 2", "one statement per call, got 2"),
)


@pytest.mark.parametrize(("sql", "message"), REFUSED)
def test_query_reads_the_warehouse_and_nothing_else(warehouse, tmp_path, sql, message, capsys):
    out = tmp_path / "out.csv"
    code = main(["query", "--warehouse", str(warehouse), sql.format(out=out, dir=tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("query refused: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing attached


def test_query_still_reads_the_warehouse(warehouse, capsys):
    assert main(["query", "--csv", "--warehouse", str(warehouse), "select count(*) as n from indicator_values"]) == 0
    assert capsys.readouterr().out == "n\n10\n"
    assert main(["query", "--warehouse", str(warehouse), "describe dim_report"]) == 0


def test_export_writes_into_its_folder_only(warehouse, tmp_path):
    from pipeline.warehouse.export import export_relations

    written = export_relations(warehouse, tmp_path / "out", "csv")
    assert (tmp_path / "out" / "indicator_values.csv").read_text(encoding="utf-8").count("\n") == 11
    assert {p.parent for p in written} == {tmp_path / "out"}


def test_a_path_that_is_not_a_warehouse_gives_one_line(warehouse, tmp_path, capsys):
    damaged = tmp_path / "damaged.duckdb"
    damaged.write_bytes(warehouse.read_bytes()[:20_000])
    cases = {
        ROOT / "README.md": "README.md is not a DuckDB warehouse file",
        warehouse.parent: "is a folder, not a warehouse file",
        damaged: "IO Error: Could not read enough bytes from file",
        tmp_path / "none.duckdb": "no warehouse at",
    }
    for path, message in cases.items():
        for command in (["query", "select 1"], ["catalog"], ["export", str(tmp_path / "out")]):
            assert main([command[0], "--warehouse", str(path), *command[1:]]) == 1
            err = capsys.readouterr().err
            assert message in err and len(err.strip().splitlines()) == 1, (command, path, err)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
