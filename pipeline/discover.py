"""Discover the report files in the raw folder.

Takes a folder, gives SourceFiles (path, name, content hash, kind) in name order, the manifest
entries (optional `manifest.csv` in the folder: file -> district, report_type, year, tertial,
org_unit) and LoadErrors for files that are not reports at all (unknown extension). A file with
the same content as another is loaded once; the duplicate is reported by name.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.models import LoadError, SourceFile

MANIFEST_NAME = "manifest.csv"
MANIFEST_FIELDS = ("file", "district", "report_type", "year", "tertial", "org_unit")
REPORT_SUFFIXES = {".txt": "txt", ".pdf": "pdf"}
IGNORED_NAMES = {MANIFEST_NAME, "README.md", ".gitkeep"}
_HASH_CHUNK = 1 << 20


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    fingerprint: str = ""  # of everything a build reads (pipeline/incremental.py)
    up_to_date: bool = False  # the warehouse in place was built from exactly these inputs


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(raw_dir: Path) -> tuple[dict[str, dict[str, str]], list[LoadError]]:
    path = raw_dir / MANIFEST_NAME
    if not path.exists():
        return {}, []
    entries: dict[str, dict[str, str]] = {}
    errors: list[LoadError] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        unknown = set(reader.fieldnames or []) - set(MANIFEST_FIELDS)
        if "file" not in (reader.fieldnames or []) or unknown:
            return {}, [LoadError(MANIFEST_NAME, "discover", f"manifest columns must be {', '.join(MANIFEST_FIELDS)}")]
        for row in reader:
            name = (row.get("file") or "").strip()
            if not name:
                continue
            if not (raw_dir / name).is_file():
                errors.append(
                    LoadError(name, "discover", f"named in {MANIFEST_NAME} but no such file in the raw folder")
                )
            entries[name] = {k: (v or "").strip() for k, v in row.items() if k != "file"}
    return entries, errors


def discover_reports(raw_dir: str | Path) -> Discovery:
    raw = Path(raw_dir)
    result = Discovery()
    if not raw.is_dir():
        result.errors.append(LoadError(str(raw), "discover", "raw folder does not exist"))
        return result
    result.manifest, result.errors = read_manifest(raw)
    seen: dict[str, str] = {}
    for path in sorted(p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.name in IGNORED_NAMES:
            continue
        kind = REPORT_SUFFIXES.get(path.suffix.lower())
        if kind is None:
            result.errors.append(
                LoadError(path.name, "discover", f"not a report file (extension {path.suffix or 'none'})")
            )
            continue
        digest = sha256_of(path)
        if digest in seen:
            result.errors.append(LoadError(path.name, "discover", f"same content as {seen[digest]}; loaded once"))
            continue
        seen[digest] = path.name
        result.files.append(SourceFile(str(path), path.name, digest, path.stat().st_size, kind))
    return result
