"""Export the published relations of the warehouse to Parquet or CSV, for tools that cannot read DuckDB.

Takes the warehouse file (opened read-only) and a folder; gives one file per relation and a
manifest.json that says, for each file, the relation, its kind, row count, and every column with its
type and meaning (the warehouse's COMMENTs). The list of published relations is in
pipeline/warehouse/relations.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pipeline.warehouse.load import connect_read_only
from pipeline.warehouse.relations import PUBLISHED_RELATIONS, read_comments

FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)"}
MANIFEST_NAME = "manifest.json"


class ExportRefused(ValueError):
    """The target cannot take an export; the message says why in one line."""


def export_files(out_dir: Path) -> list[Path]:
    """The files an export (of any format) writes into out_dir, as far as they are there."""
    names = [f"{name}.{fmt}" for name in PUBLISHED_RELATIONS for fmt in FORMATS] + [MANIFEST_NAME]
    return [out_dir / n for n in names if (out_dir / n).is_file()]


def prepare_target(out_dir: Path) -> None:
    """A folder to export into: made if missing; an earlier export there (any format, its manifest
    included) is removed whole, so the folder never mixes two exports. Other files stay."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportRefused(f"{out_dir} is a file, not a folder: give a folder to export into")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ExportRefused(f"cannot make the folder {out_dir}: a part of its path is a file") from exc
    for path in export_files(out_dir):
        path.unlink()


def export_relations(warehouse: Path, out_dir: Path, fmt: str) -> list[Path]:
    """Write every published relation as one file, then the manifest; gives the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    prepare_target(out_dir)
    kinds, columns = read_comments(warehouse)
    written, entries = [], []
    con = connect_read_only(warehouse, write_dir=out_dir)  # may write into out_dir only
    try:
        for name in PUBLISHED_RELATIONS:
            target = out_dir / f"{name}.{fmt}"
            # Relation names come from the list above, never from input; the path is quoted.
            quoted = "'" + str(target).replace("'", "''") + "'"
            con.execute(f"COPY (SELECT * FROM {name}) TO {quoted} {FORMATS[fmt]}")
            rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            kind, comment = kinds[name]
            entries.append(
                {
                    "relation": name,
                    "kind": kind,
                    "file": target.name,
                    "rows": rows,
                    "description": comment,
                    "columns": [{"name": c, "type": t, "description": d} for c, t, d in columns[name]],
                }
            )
            written.append(target)
    finally:
        con.close()
    manifest = {
        "warehouse": str(warehouse),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "format": fmt,
        "relations": entries,
    }
    path = out_dir / MANIFEST_NAME
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [*written, path]
