"""Dagster assets for what BI tools read: every published table and view of the warehouse.

They sit downstream of the `warehouse` asset, so the lineage in the Dagster UI runs from the report
files to the tables an analyst opens. Materializing them reads the just-published file read-only and
records each relation's columns (with their COMMENTs) and row count; it writes nothing.
"""

import re
from pathlib import Path

import dagster as dg

from pipeline.orchestration.assets import warehouse_left_in_place
from pipeline.orchestration.settings import BuildSettings
from pipeline.warehouse.load import SQL_DIR, connect_read_only
from pipeline.warehouse.relations import PUBLISHED_RELATIONS

RELATIONS_GROUP = "warehouse_tables"
# Views that rank or group every observation: counting one computes all of it, which grows with the
# warehouse (about a second at 500 reports) and a build with one new report would pay each time.
# Their metadata is the column schema; a query gives the count.
UNCOUNTED_VIEWS = frozenset({"indicator_latest_revision", "indicator_series", "indicator_latest"})
_TABLE_COMMENT = re.compile(r"^COMMENT ON (?:TABLE|VIEW) (\w+) IS '((?:[^']|'')*)';$", re.M)


def relation_descriptions(comments_sql: Path = SQL_DIR / "comments.sql") -> dict[str, str]:
    """Each relation's COMMENT from sql/comments.sql, so the graph shows it before any build ran."""
    text = comments_sql.read_text(encoding="utf-8")
    return {name: body.replace("''", "'") for name, body in _TABLE_COMMENT.findall(text)}


def relation_metadata(warehouse: Path) -> dict[str, dict]:
    """Column schema (names, types, meanings) and row count of every published relation (but
    UNCOUNTED_VIEWS)."""
    from pipeline.warehouse.relations import read_comments

    _, columns = read_comments(warehouse)
    con = connect_read_only(warehouse)
    try:
        out = {}
        for name in PUBLISHED_RELATIONS:
            schema = dg.TableSchema(
                columns=[dg.TableColumn(col, dtype, description=text) for col, dtype, text in columns[name]]
            )
            out[name] = {"dagster/column_schema": schema}
            if name not in UNCOUNTED_VIEWS:  # names come from PUBLISHED_RELATIONS, never from input
                out[name]["dagster/row_count"] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        return out
    finally:
        con.close()


def _relation_specs() -> list[dg.AssetSpec]:
    described = relation_descriptions()
    return [
        dg.AssetSpec(
            name,
            deps=["warehouse"],
            group_name=RELATIONS_GROUP,
            description=described.get(name),
            kinds={"duckdb"},
            skippable=True,
        )
        for name in PUBLISHED_RELATIONS
    ]


@dg.multi_asset(specs=_relation_specs(), name="warehouse_relations", can_subset=True)
def warehouse_relations(context: dg.AssetExecutionContext, settings: BuildSettings):
    """Record what the published warehouse holds, relation by relation. An up-to-date run records them
    too (marked up_to_date), so an instance that never saw the build that wrote the file shows them."""
    figures = relation_metadata(settings.warehouse)
    flag = {"up_to_date": True} if warehouse_left_in_place(context) else {}
    for key in context.selected_asset_keys:
        name = key.to_user_string()
        yield dg.MaterializeResult(asset_key=key, metadata={**figures[name], **flag})


RELATION_ASSETS = [warehouse_relations]
