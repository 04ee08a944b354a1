"""The published relations, in README's order, and their meaning as the warehouse's COMMENTs give it.

README documents the same list (tests/test_bi_access.py keeps the two equal); `indicators export` writes
these relations, pipeline/warehouse/schema_doc.py documents them.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.warehouse.load import connect_read_only

# README's order: the contract view, the star schema, the views over it, then the build's own tables.
PUBLISHED_RELATIONS = (
    "indicator_values",
    "fact_indicator_value",
    "dim_district",
    "dim_org_unit",
    "dim_period",
    "dim_indicator",
    "dim_report",
    "dim_goal",
    "dim_gender",
    "fact_observation",
    "fact_goal_assessment",
    "indicator_observations",
    "indicator_latest_revision",
    "indicator_series",
    "indicator_latest",
    "target_attainment",
    "goal_assessments",
    "quarantine",
    "load_errors",
    "build_summary",
    "build_state",
    "validation_results",
    "validation_shares",
)
RELATIONS_SQL = """
select table_name, 'table', comment from duckdb_tables() where not internal
union all
select view_name, 'view', comment from duckdb_views() where not internal
"""
COLUMNS_SQL = """
select table_name, column_name, data_type, comment from duckdb_columns()
where not internal order by table_name, column_index
"""



def read_comments(warehouse: Path) -> tuple[dict[str, tuple[str, str]], dict[str, list[tuple[str, str, str]]]]:
    """{relation: (kind, comment)}, {relation: [(column, type, comment)]} of the published relations."""
    con = connect_read_only(warehouse)
    try:
        relations = {name: (kind, comment) for name, kind, comment in con.execute(RELATIONS_SQL).fetchall()}
        columns: dict[str, list[tuple[str, str, str]]] = {}
        for table, column, dtype, comment in con.execute(COLUMNS_SQL).fetchall():
            columns.setdefault(table, []).append((column, dtype, comment))
    finally:
        con.close()
    return {n: relations[n] for n in PUBLISHED_RELATIONS}, {n: columns[n] for n in PUBLISHED_RELATIONS}
