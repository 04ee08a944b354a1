"""What a build may skip, and the per-report caches that let it.

A build whose inputs are those the current warehouse was built from (the same report files by name
and content hash, the same manifest, the same code, SQL, suites and reference data, the same
settings) would build the same warehouse: it is "up to date" and leaves the file alone. The
fingerprint of those inputs is kept in the warehouse itself (table build_state), so it is replaced
only together with what it describes.

Otherwise each report's parse, normalize and row-level validation results are cached under
<warehouse dir>/.cache/reports/ by the report's content hash, its manifest row and CODE_VERSION, so a
new or changed report costs its own work and the others are read back. Every entry is plain data
(JSON, Parquet) sealed with the warehouse folder's key (pipeline/common/sealed.py) and checked when
read back: one that fails is derived again, with one line saying so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from pipeline.common.code_version import CODE_VERSION
from pipeline.common.models import LoadError, SourceFile
from pipeline.common.sealed import SealBroken, cache_key, open_sealed, read_sealed, remove_entry, seal, write_sealed
from pipeline.common.storage import batches, store_of
from pipeline.sources.discover import Discovery
from pipeline.warehouse.housekeeping import keep_damaged
from pipeline.warehouse.published import warehouse_damage

log = logging.getLogger(__name__)

INPUTS_KEY = "inputs"


def inputs_fingerprint(discovery: Discovery, settings: dict[str, object]) -> str:
    """The files (name, content hash), the manifest, what discovery rejected, the code and the settings."""
    state = {
        "code": CODE_VERSION,
        "files": sorted((f.name, f.sha256) for f in discovery.files),
        "manifest": sorted(discovery.manifest.items()),
        "rejected": sorted((e.file, e.stage, e.reason) for e in discovery.errors),
        "settings": sorted(settings.items()),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


# Files rejected for how long or how much memory extraction took may read fine on another night.
RETRY_EXTRACT_SQL = """
select count(*) from load_errors
where stage = 'extract' and (reason like 'extraction %' or reason like '%memory cap%')
"""


def warehouse_sound(warehouse: Path) -> bool:
    """Whether the warehouse file in place (if any) reads whole. One that DuckDB finds damaged is never
    up to date: it is kept aside as <name>.corrupt-<time> and the build loads a new one whole from the
    raw folder (a copy of it is never patched), compared with the record of what it held."""
    damage = warehouse_damage(warehouse)
    if damage is None:
        return True
    kept = keep_damaged(warehouse, datetime.now(UTC))
    log.warning("%s is damaged (%s); kept as %s, built again from the raw folder", warehouse.name, damage, kept.name)
    return False


def is_up_to_date(warehouse: Path, fingerprint: str) -> bool:
    """Whether the warehouse in place was built from exactly these inputs, with no file left to retry."""
    if not warehouse.exists():
        return False
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("select value from build_state where name = ?", [INPUTS_KEY]).fetchone()
            retry = con.execute(RETRY_EXTRACT_SQL).fetchone()[0]
    except duckdb.Error as exc:  # an older or broken warehouse: build
        log.info("no build state in %s (%s): building", warehouse, str(exc).splitlines()[0][:120])
        return False
    return row is not None and row[0] == fingerprint and retry == 0


def previous_checks(warehouse: Path) -> dict[str, tuple[bool, int, str]]:
    """Per suite of the warehouse in place: whether every expectation passed, how many ran, in which run."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select suite, bool_and(success), count(*), any_value(run_id) from validation_results group by suite"
        ).fetchall()
    return {suite: (bool(ok), n, run_id or "") for suite, ok, n, run_id in rows}


def previous_summary(warehouse: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select metric, value from build_summary").fetchall())


def previous_load_errors(warehouse: Path) -> list[LoadError]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            LoadError(*row)
            for row in con.execute("select file, stage, reason from load_errors order by all").fetchall()
        ]


# --- per-report caches -----------------------------------------------------------------------


def report_key(file: SourceFile, manifest_entry: dict[str, str] | None) -> str:
    """A report's cache key: its content, its name (rows carry it), its manifest row and the code."""
    entry = json.dumps([file.name, sorted((manifest_entry or {}).items())])
    return f"{file.sha256}.{CODE_VERSION}.{hashlib.sha256(entry.encode()).hexdigest()[:12]}"


def reports_cache(cache_dir: Path) -> Path:
    folder = cache_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prune_reports_cache(cache_dir: Path, keep: Collection[str] = ()) -> int:
    """Remove what other versions of the code cached, but for the results the published rows came from
    (`keep`): a report read again and held back gets its published version back from them."""
    folder = cache_dir / "reports"
    removed = 0
    if folder.is_dir():
        for path in folder.iterdir():
            parts = path.name.split(".")
            if len(parts) > 2 and parts[1] != CODE_VERSION and ".".join(parts[:3]) not in keep:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def published_cache_keys(warehouse: Path) -> set[str]:
    """The cached results the published warehouse's reports were loaded from (none when it cannot be read)."""
    if not warehouse.is_file():
        return set()
    import duckdb  # only when a warehouse is there

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("select value from build_state where starts_with(name, 'report ')").fetchall()
    except duckdb.Error:
        return set()
    return {value for (value,) in rows}


class ReportCache:
    """The per-report cache of one build: each report's results by its key and kind (parsed.json,
    facts.parquet, ...), sealed when written and checked when read. With a store attached to the cache
    folder (pipeline/common/storage.py) an entry missing here is fetched from it, and each entry written
    is put there too: a report's partition run on another machine and the build share them."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = reports_cache(cache_dir)
        self.key = cache_key(cache_dir)
        self.store = store_of(cache_dir)

    def path(self, key: str, kind: str) -> Path:
        return self.folder / f"{key}.{kind}"

    def read(self, key: str, kind: str, report: str) -> bytes | None:
        """An entry's checked content; None when there is none, or when it fails its check (then it is
        removed and one line names it: the caller derives it again)."""
        path = self.path(key, kind)
        try:
            return read_sealed(path, self.key)
        except FileNotFoundError:
            return self._fetch(path, report)
        except (SealBroken, OSError) as exc:
            self.discard(key, kind, report, str(exc))
            return self._fetch(path, report)

    def _fetch(self, path: Path, report: str) -> bytes | None:
        """The entry from the store, checked, and kept here; None when the store has none or it fails."""
        if self.store is None:
            return None
        name = f"{path.parent.name}/{path.name}"
        sealed = self.store.get(name)
        if sealed is None:
            return None
        try:
            data = open_sealed(sealed, self.key, path.name)
        except SealBroken as exc:
            where = self.store.url
            log.warning("cache entry %s of %s in %s failed its check (%s); derived again", name, report, where, exc)
            return None
        _keep(path, sealed)
        return data

    def prefetch(self, keys: list[str], kinds: tuple[str, ...]) -> None:
        """The entries of these reports missing here, fetched from the store in concurrent batches and kept
        here once checked: a build on a machine that has none does not ask for them one by one. One that
        fails its check is left in the store; read() finds it there again and says so."""
        if self.store is None:
            return
        wanted = {
            f"{self.folder.name}/{key}.{kind}": self.path(key, kind)
            for key in keys
            for kind in kinds
            if not self.path(key, kind).exists()
        }
        for batch in batches(list(wanted)):
            for name, sealed in self.store.get_many(batch).items():
                path = wanted[name]
                try:
                    open_sealed(sealed, self.key, path.name)
                except SealBroken:
                    continue
                _keep(path, sealed)

    def discard(self, key: str, kind: str, report: str, why: str) -> None:
        log.warning("cache entry %s of %s failed its check (%s); derived again", kind, report, why)
        remove_entry(self.path(key, kind))

    def write(self, key: str, kind: str, data: bytes) -> None:
        path = self.path(key, kind)
        write_sealed(path, data, self.key)
        if self.store is not None:  # one PUT of the sealed entry, as it is on disk
            self.store.put(f"{path.parent.name}/{path.name}", seal(data, self.key, path.name))


def _keep(path: Path, sealed: bytes) -> None:
    """An entry from the store, put in place here whole (its check passed)."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(sealed)
    os.replace(tmp, path)
