"""Normalize parsed indicator rows into typed Polars frames.

Takes a ParsedReport, gives a facts frame (one row per indicator row: every measure as a DOUBLE
next to its cell text as printed, one unit per row) and a goals frame. Swedish numbers: decimal
comma, space, no-break, narrow no-break or thin space between thousands ("9 000 st" -> 9000.0), the unit kept apart
("5,79 %" -> 5.79 and "%": a percent stays 5.79). "-" and empty cells are NULL; a text cell
("Tas fram av nämnd") is NULL with its text kept in <measure>_text. What is one number is decided by
pipeline/common/numbers.py alone: a cell that starts like a number and is not exactly one ("0.45",
"12-15", "57,48 % 63,52 %") is NULL, its text kept, the row flagged.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.common import numbers
from pipeline.common.models import MEASURES, ParsedReport
from pipeline.common.periods import is_unreadable_period
from pipeline.model.catalog import load_catalog
from pipeline.model.periods import parse_period_cell, previous_year

# A measure cell that starts like a number but is not one number in a known form ("0.45", "12-15"):
# NULL, its text kept, the row flagged; never its leading digits.
UNREADABLE_NUMBER = "unreadable_number"
TWO_VALUES_IN_CELL = "two_values_in_cell"
# A filled Period cell the period grammar does not read: its outcome is filed under no period.
NOT_A_PERIOD = "not_a_period"
# Council, report type or year read from the report's body (no cover, no manifest row): a guess.
METADATA_FROM_BODY = "metadata_from_body"

FACT_TEXT_COLUMNS = [f"{m}_text" for m in MEASURES]


def normalize_name(name: str) -> str:
    """The canonical spelling of a printed name: one space, no trailing full stop."""
    name = re.sub(r"\s+", " ", name).strip()
    return name.rstrip(" .")


def cell_reading(cell: str | None) -> tuple[float | None, str | None, str | None]:
    """(value, unit as printed, flag) of one measure cell, by the one number grammar."""
    cell = cell or ""
    if numbers.is_blank(cell):
        return None, None, None
    if numbers.holds_two_values(cell):
        return None, None, TWO_VALUES_IN_CELL  # two columns run together: neither is a guess
    number = numbers.parse_number(cell)
    if number is not None:
        return number.value, number.unit, None
    return None, None, UNREADABLE_NUMBER if numbers.looks_numeric(cell) else None


def swedish_number(cell: str | None) -> tuple[float | None, str | None]:
    """(value, unit) of a cell, the unit in the warehouse's spelling; (None, None) unless one number."""
    value, unit, _ = cell_reading(cell)
    return value, numbers.canonical_unit(unit) if unit else None


def rows_frame(report: ParsedReport) -> pl.DataFrame:
    meta = report.meta
    records = [
        {
            "report_id": report.file.sha256,
            "report_file": report.file.name,
            "row_no": r.row_no,
            "table_no": r.table_no,
            "goal_ref": r.goal_ref,
            "indicator_as_printed": r.indicator_as_printed,
            "by_gender": r.by_gender,
            **{f"{m}_text": r.cells.get(m, "") for m in MEASURES},
            "period": r.cells.get("period") or None,
            "_period_flag": NOT_A_PERIOD if is_unreadable_period(r.cells.get("period")) else None,
            "previous_label": r.previous_label,
            "comment": r.comment,
            "source_page": r.source_page,
            "source_line": r.source_line,
            "parse_flag": r.quality_flag,
            "raw_text": r.raw_text,
        }
        for r in report.rows
    ]
    schema = {
        "report_id": pl.String,
        "report_file": pl.String,
        "row_no": pl.Int32,
        "table_no": pl.Int32,
        "goal_ref": pl.String,
        "indicator_as_printed": pl.String,
        "by_gender": pl.Boolean,
        **{c: pl.String for c in FACT_TEXT_COLUMNS},
        "period": pl.String,
        "_period_flag": pl.String,
        "previous_label": pl.String,
        "comment": pl.String,
        "source_page": pl.Int32,
        "source_line": pl.Int32,
        "parse_flag": pl.String,
        "raw_text": pl.String,
    }
    frame = pl.DataFrame(records, schema=schema)
    return frame.with_columns(
        pl.lit(METADATA_FROM_BODY if meta.from_body() else None, dtype=pl.String).alias("_meta_flag"),
        pl.lit(meta.report_type).alias("report_type"),
        pl.lit(meta.district).alias("district"),
        pl.lit(meta.org_unit, dtype=pl.String).alias("org_unit"),
        pl.lit(meta.year, dtype=pl.Int32).alias("year"),
        pl.lit(meta.tertial, dtype=pl.Int32).alias("tertial"),
    )


def _measure_columns(frame: pl.DataFrame) -> pl.DataFrame:
    columns: dict[str, list] = {}
    cell_flags: list[list[str]] = [[] for _ in range(frame.height)]
    for m in MEASURES:
        readings = [cell_reading(c) for c in frame[f"{m}_text"].to_list()]
        columns[m] = [r[0] for r in readings]
        columns[f"_{m}_unit_printed"] = [r[1] for r in readings]
        columns[f"_{m}_unit"] = [numbers.canonical_unit(r[1]) if r[1] else None for r in readings]
        for i, r in enumerate(readings):
            if r[2]:
                cell_flags[i].append(r[2])
    schema = {c: pl.Float64 if c in MEASURES else pl.String for c in columns}
    flags = [",".join(dict.fromkeys(f)) or None for f in cell_flags]
    return frame.with_columns(
        *[pl.Series(c, v, dtype=schema[c]) for c, v in columns.items()],
        pl.Series("_cell_flag", flags, dtype=pl.String),
    )


def _row_unit_and_flags(frame: pl.DataFrame) -> pl.DataFrame:
    unit_cols = [f"_{m}_unit" for m in MEASURES]
    printed_cols = [f"_{m}_unit_printed" for m in MEASURES]
    units = pl.concat_list([pl.col(c) for c in unit_cols]).list.drop_nulls()
    printed = pl.concat_list([pl.col(c) for c in printed_cols]).list.drop_nulls().list.unique(maintain_order=True)
    distinct = units.list.unique()
    # A cell that is neither empty, "-", nor a number is a text cell: NULL value, text kept.
    text_cells = pl.sum_horizontal(
        [
            (pl.col(f"{m}_text").str.strip_chars().is_in(["", "-", "–"]).not_() & pl.col(m).is_null()).cast(pl.Int8)
            for m in MEASURES
        ]
    )
    flags = (
        pl.concat_list(
            [
                pl.col("parse_flag"),
                pl.col("_cell_flag"),
                pl.when(distinct.list.len() > 1).then(pl.lit("mixed_units")),
                pl.col("_period_flag"),
                pl.col("_meta_flag"),
            ]
        )
        .list.drop_nulls()
        .list.join(",")
        .str.split(",")  # a code the parser and a cell both raise is said once
        .list.unique(maintain_order=True)
        .list.join(",")
    )
    return frame.with_columns(
        units.list.eval(pl.element().mode().sort().first()).list.first().alias("unit"),
        # every distinct spelling of the row's cells, so a mixed row shows both ("62 kwh/kv m", "33 kWh")
        pl.when(printed.list.len() > 0).then(printed.list.join(" / ")).alias("unit_as_printed"),
        text_cells.alias("text_cells"),
        pl.when(flags != "").then(flags).alias("quality_flag"),
    ).drop([*unit_cols, *printed_cols, "_cell_flag", "_meta_flag", "_period_flag"])


CATALOG_SCHEMA = {
    "indicator": pl.String,
    "indicator_key": pl.String,
    "catalog_status": pl.String,
    "better": pl.String,
    "proposed_key": pl.String,
    "proposed_score": pl.Float64,
}
PERIOD_SCHEMA = {
    "period_kind": pl.String,
    "period_year": pl.Int32,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "frequency": pl.String,
    "previous_year": pl.Int32,
}


def _catalog_columns(frame: pl.DataFrame) -> pl.DataFrame:
    catalog = load_catalog()
    records = []
    for printed in frame["indicator_as_printed"].to_list():
        m = catalog.lookup(normalize_name(printed))
        records.append(
            {
                "indicator": m.indicator,
                "indicator_key": m.indicator_key,
                "catalog_status": m.status,
                "better": m.better,
                "proposed_key": m.proposed_key,
                "proposed_score": m.proposed_score,
            }
        )
    return pl.concat([frame, pl.DataFrame(records, schema=CATALOG_SCHEMA)], how="horizontal")


def _period_columns(frame: pl.DataFrame) -> pl.DataFrame:
    records = []
    for cell, label in zip(frame["period"].to_list(), frame["previous_label"].to_list(), strict=True):
        p = parse_period_cell(cell)
        records.append(
            {
                "period_kind": p.kind,
                "period_year": p.year,
                "period_start": p.start,
                "period_end": p.end,
                "frequency": p.frequency,
                "previous_year": previous_year(label),
            }
        )
    return pl.concat([frame, pl.DataFrame(records, schema=PERIOD_SCHEMA)], how="horizontal")


def normalize_report(report: ParsedReport) -> pl.DataFrame:
    frame = rows_frame(report)
    frame = _measure_columns(frame)
    frame = _row_unit_and_flags(frame)
    frame = _catalog_columns(frame)
    frame = _period_columns(frame)
    return frame.with_columns(pl.col("comment").str.strip_chars())


def goals_frame(report: ParsedReport) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "report_id": report.file.sha256,
                "goal_ref": g.ref,
                "goal_kind": g.kind,
                "goal_text": g.text,
                "parent_ref": g.parent_ref,
                "assessment": g.assessment,
                "source_page": g.source_page,
                "source_line": g.source_line,
            }
            for g in report.goals
        ],
        schema={
            "report_id": pl.String,
            "goal_ref": pl.String,
            "goal_kind": pl.String,
            "goal_text": pl.String,
            "parent_ref": pl.String,
            "assessment": pl.String,
            "source_page": pl.Int32,
            "source_line": pl.Int32,
        },
    )
