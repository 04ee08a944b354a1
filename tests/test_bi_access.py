"""The warehouse as BI tools and analysts meet it: comments on everything, the docs written from them,
a SQLAlchemy client (duckdb_engine, as Superset and other Python BI tools use), the DuckDB shell,
README's example questions, and the Parquet export read back by DuckDB and Polars."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlalchemy as sa

from pipeline.cli import main as indicators
from pipeline.warehouse.export import MANIFEST_NAME, export_relations
from pipeline.warehouse.relations import PUBLISHED_RELATIONS
from pipeline.warehouse.schema_doc import (
    README,
    SCHEMA_DOC,
    column_reference,
    read_comments,
    readme_relation_table,
    relation_table,
)

from .conftest import query

WELFARE_2014 = "Andel barn som lever i familjer som är beroende av ekonomiskt bistånd"


def readme_sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_every_published_table_view_and_column_has_a_comment(built):
    wh, _, _ = built
    relations, columns = read_comments(wh)
    assert [n for n, (_, comment) in relations.items() if not comment] == []
    assert [(n, c) for n, cols in columns.items() for c, _, text in cols if not text] == []
    assert sum(len(cols) for cols in columns.values()) > 250
    user_relations = {r[0] for r in query(wh, "select table_name from duckdb_tables() where not internal")}
    user_relations |= {r[0] for r in query(wh, "select view_name from duckdb_views() where not internal")}
    assert user_relations == set(PUBLISHED_RELATIONS)  # nothing users can see is left out of the docs
    assert "Kolada" in relations["dim_gender"][1]
    unit = dict((c, t) for c, _, t in columns["indicator_values"])["unit"]
    assert "st (count)" in unit and "kWh/kvm" in unit


def test_readme_and_schema_doc_are_the_comments(built):
    wh, _, _ = built
    relations, columns = read_comments(wh)
    assert readme_relation_table(README.read_text(encoding="utf-8")) == relation_table(relations), (
        "README's relations drifted from sql/comments.sql: run .venv/bin/python -m pipeline.warehouse.schema_doc"
    )
    assert SCHEMA_DOC.read_text(encoding="utf-8") == column_reference(relations, columns), (
        "docs/schema.md drifted from sql/comments.sql: run .venv/bin/python -m pipeline.warehouse.schema_doc"
    )


def test_user_views_carry_keys_uniform_periods_and_units(built):
    wh, _, _ = built
    row = query(
        wh,
        "select indicator_key, district_code, period_key, period_kind, period_start, period_end, unit, "
        "unit_as_printed from indicator_values where indicator_as_printed = ? and year = 2014",
        WELFARE_2014,
    )
    assert [tuple(map(str, r)) for r in row] == [
        (
            "andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand",
            "hasselby-vallingby",
            "2014-T1",
            "tertial",
            "2014-01-01",
            "2014-04-30",
            "%",
            "%",
        )
    ]
    periods = dict(query(wh, "select distinct span, ref_period from indicator_series"))
    assert periods["2014-01..2014-04"] == "2014-T1" and periods["2019-01..2019-06"] == "2019-H1"
    kinds = {r[0] for r in query(wh, "select distinct period_kind from indicator_series")}
    assert kinds <= {"year", "tertial", "half_year", "quarter", "other"} and "year" in kinds
    units = {r[0] for r in query(wh, "select distinct unit from indicator_values where unit is not null")}
    assert {"st", "%", "GWh", "kWh/kvm"} <= units and not {"st.", "gwh", "kwh/kvm"} & units
    # "108 st." is printed with a full stop and stored as st; the printed form stays beside it
    assert ("st", "st.") in query(wh, "select distinct unit, unit_as_printed from indicator_values")
    for view in ("indicator_series", "indicator_latest", "target_attainment", "goal_assessments"):
        cols = {r[0] for r in query(wh, f"select column_name from duckdb_columns() where table_name = '{view}'")}
        assert {"district_code", "org_unit_key"} <= cols, view
        assert "indicator_key" in cols or view == "goal_assessments"


def test_a_bi_client_reads_through_sqlalchemy_read_only(built):
    wh, _, _ = built
    engine = sa.create_engine(f"duckdb:///{wh}", connect_args={"read_only": True})
    try:
        inspector = sa.inspect(engine)
        listed = set(inspector.get_table_names()) | set(inspector.get_view_names())
        assert listed == set(PUBLISHED_RELATIONS)
        for name in PUBLISHED_RELATIONS:
            assert inspector.get_table_comment(name)["text"], name
        columns = {c["name"]: c["comment"] for c in inspector.get_columns("indicator_values")}
        assert columns["city_target"].startswith("The city council's target")
        with engine.connect() as con:
            results = [con.execute(sa.text(sql)).fetchall() for sql in readme_sql_blocks()]
            assert all(r is not None for r in results)
            first = results[0]
            assert ("Hässelby-Vällingby", 2014, "tertialrapport_1", "Tertial 1 2014", 5.79) in [r[:5] for r in first]
            attainment = results[1]
            assert [(r[1], r[3], r[5]) for r in attainment] == [
                ("ostermalm", "2013", 0.45),
                ("hasselby-vallingby", "2014-T1", 5.79),
                ("hasselby-vallingby", "2019-T1", 3.3),
            ]
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                con.execute(sa.text("delete from dim_gender"))
    finally:
        engine.dispose()


JOIN_KEYS = ("indicator_key", "district_code", "org_unit_key", "ref_period")


def test_a_bi_join_on_the_documented_keys_keeps_every_council(built):
    """indicator_latest joined to target_attainment with plain equality, as a BI tool's join dialog
    writes it: every council with an attainment row keeps it, units and whole councils alike."""
    wh, _, _ = built
    on = " and ".join(f"l.{k} = t.{k}" for k in JOIN_KEYS)
    engine = sa.create_engine(f"duckdb:///{wh}", connect_args={"read_only": True})
    try:
        with engine.connect() as con:
            nulls = con.execute(
                sa.text("select count(*) from indicator_values where org_unit_key is null or district_code is null")
            ).scalar()
            joined = con.execute(
                sa.text(
                    f"select t.district_code, t.target_met from indicator_latest l join target_attainment t on {on}"
                ),
            ).fetchall()
            latest_attained = con.execute(
                sa.text(
                    "select distinct t.district_code from target_attainment t join indicator_latest l "
                    "using (indicator_key, district, ref_start, ref_end) where t.target_met is not null"
                )
            ).fetchall()
    finally:
        engine.dispose()
    assert nulls == 0
    councils = {d for d, met in joined if met is not None}
    assert councils == {d for (d,) in latest_attained}
    assert {"hasselby-vallingby", "hagersten-alvsjo", "ostermalm"} <= councils


def test_readme_examples_run_in_indicators_query(built, capsys):
    wh, _, _ = built
    blocks = readme_sql_blocks()
    assert len(blocks) >= 8
    for sql in blocks:
        assert indicators(["query", "--warehouse", str(wh), sql]) == 0, sql
    assert "5.79" in capsys.readouterr().out


def test_the_duckdb_shell_opens_the_warehouse(built):
    wh, _, _ = built
    shell = Path(sys.executable).parent / "duckdb"
    assert shell.exists(), "make install puts the DuckDB shell (package duckdb-cli) beside python"
    done = subprocess.run(
        [
            str(shell),
            "-readonly",
            "-csv",
            str(wh),
            "-c",
            f"select outcome from indicator_values where indicator_as_printed = '{WELFARE_2014}' and year = 2014",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["outcome", "5.79"]


def test_export_writes_every_relation_with_a_manifest(built, tmp_path):
    wh, _, _ = built
    written = export_relations(wh, tmp_path / "out", "parquet")
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert [e["relation"] for e in manifest["relations"]] == list(PUBLISHED_RELATIONS)
    assert len(written) == len(PUBLISHED_RELATIONS) + 1
    for entry in manifest["relations"]:
        path = tmp_path / "out" / entry["file"]
        expected = query(wh, f"select count(*) from {entry['relation']}")[0][0]
        by_duckdb = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
        frame = pl.read_parquet(path)
        assert entry["rows"] == by_duckdb == frame.height == expected, entry["relation"]
        assert frame.columns == [c["name"] for c in entry["columns"]]
        assert all(c["description"] for c in entry["columns"]) and entry["description"]
    facts = pl.read_parquet(tmp_path / "out" / "fact_indicator_value.parquet")
    assert sorted(facts.filter(pl.col("indicator_as_printed") == WELFARE_2014)["outcome"].to_list()) == [0.45, 5.79]
    assert pl.read_parquet(tmp_path / "out" / "validation_results.parquet").height > 50
