"""The build lock of a warehouse and what builds leave beside it: half-built files and staging folders
of killed builds, a path that is not a warehouse (never replaced), rejected warehouses kept for
inspection (the newest few)."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.common.staging import stage_dir_in_use
from pipeline.warehouse.load import is_duckdb_file, leftover_building_files
from pipeline.warehouse.published import record_path

log = logging.getLogger(__name__)

REJECTED_DIR_NAME = "rejected"
# Rejected warehouses are kept for inspection; a nightly that keeps failing must not fill the disk.
KEEP_REJECTED = 5
# A second build waits this long for the first to finish before it gives up (and Dagster retries).
LOCK_TIMEOUT_S = 15 * 60.0
LOCK_POLL_S = 0.5
# Staging folders older than this belong to runs that died; younger ones may be a retry's input.
STALE_STAGING_S = 24 * 3600.0


class NotAWarehouse(ValueError):
    """The warehouse path names something that is not a warehouse: the build stops, nothing is replaced."""


class WarehouseBusy(RuntimeError):
    """Another build holds the lock: transient, the run retries."""


# --- the lock and what killed builds leave -----------------------------------------------------


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


@contextmanager
def warehouse_lock(warehouse: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """One build at a time per warehouse. The kernel drops the lock when its holder dies, even by kill -9."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(warehouse), "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"another build of {warehouse} is still running after {timeout_s:.0f} s"
                    ) from None
                time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def refuse_to_replace(warehouse: Path) -> None:
    """A warehouse path naming a folder or a file that is not a DuckDB database is never replaced."""
    if warehouse.is_dir():
        raise NotAWarehouse(f"{warehouse} is a folder, not a warehouse file (e.g. {warehouse / 'indicators.duckdb'})")
    if warehouse.exists() and not is_duckdb_file(warehouse):
        raise NotAWarehouse(f"{warehouse} is not a DuckDB warehouse file; not replaced")


def remove_leftovers(warehouse: Path) -> list[Path]:
    """Half-built files of killed builds. Call with the lock held: then no live build owns one."""
    record = record_path(warehouse)
    removed = leftover_building_files(warehouse) + sorted(warehouse.parent.glob(f"{record.name}.tmp*"))
    for path in removed:
        path.unlink(missing_ok=True)
        log.warning("removed %s, left by a build that was stopped", path.name)
    return removed


def remove_stale_staging(staging_root: Path, current: Path, max_age_s: float = STALE_STAGING_S) -> None:
    """Staging folders of builds no longer running: their lock is free (a folder without one, left by
    an older build, goes when it is older than `max_age_s`)."""
    if not staging_root.is_dir():
        return
    cutoff = time.time() - max_age_s
    for folder in staging_root.iterdir():
        if folder.resolve() == current.resolve() or not folder.is_dir() or folder.is_symlink():
            continue
        in_use = stage_dir_in_use(folder)
        if in_use is False or (in_use is None and folder.stat().st_mtime < cutoff):
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("removed staging folder %s, left by a build that is no longer running", folder.name)


def keep_rejected(candidate: Path, warehouse: Path, now: datetime, keep: int = KEEP_REJECTED) -> Path:
    """Move a rejected warehouse to rejected/<name>-<UTC time>.duckdb; the newest `keep` stay."""
    folder = warehouse.parent / REJECTED_DIR_NAME
    folder.mkdir(exist_ok=True)
    target = folder / f"{warehouse.stem}-{now.strftime('%Y%m%dT%H%M%S%fZ')}{warehouse.suffix}"
    candidate.replace(target)
    for old in sorted(folder.glob(f"{warehouse.stem}-*{warehouse.suffix}"))[:-keep]:
        old.unlink(missing_ok=True)
    return target


DAMAGED_MARK = ".corrupt-"


def keep_damaged(warehouse: Path, now: datetime) -> Path:
    """Keep a damaged warehouse file for inspection as <name>.corrupt-<UTC time> beside it: a hard link,
    so the file a rebuild publishes replaces the name and the damaged one stays. Once per file."""
    prefix = warehouse.name + DAMAGED_MARK
    for old in warehouse.parent.iterdir():  # not a glob: the name may hold "[" or "*"
        if old.name.startswith(prefix) and old.is_file() and os.path.samefile(old, warehouse):
            return old
    target = warehouse.with_name(f"{prefix}{now.strftime('%Y%m%dT%H%M%SZ')}")
    try:
        os.link(warehouse, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(warehouse, target)
    return target
