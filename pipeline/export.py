"""Export the published relations of the warehouse to Parquet or CSV, for tools that cannot read DuckDB.

Takes the warehouse file (opened read-only) and a folder; gives one file per relation. The list of
published relations lives here, and README documents the same list.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.load import connect_read_only

PUBLISHED_RELATIONS = (
    "indicator_values",
    "indicator_observations",
    "indicator_latest_revision",
    "indicator_latest",
    "indicator_series",
    "target_attainment",
    "goal_assessments",
    "dim_district",
    "dim_org_unit",
    "dim_period",
    "dim_indicator",
    "dim_gender",
    "dim_report",
    "dim_goal",
    "load_errors",
    "quarantine",
    "build_summary",
)
FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}


def export_relations(warehouse: Path, out_dir: Path, fmt: str) -> list[Path]:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    con = connect_read_only(warehouse, write_dir=out_dir)  # may write into out_dir only
    try:
        for name in PUBLISHED_RELATIONS:
            target = out_dir / f"{name}.{fmt}"
            # Relation names come from the list above, never from input; the path is quoted.
            quoted = "'" + str(target).replace("'", "''") + "'"
            con.execute(f"COPY (SELECT * FROM {name}) TO {quoted} {FORMATS[fmt]}")
            written.append(target)
    finally:
        con.close()
    return written
