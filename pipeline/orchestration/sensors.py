"""A Dagster sensor that starts a build when the files in the raw folder change.

Takes the raw folder (BuildSettings.raw_dir) and the sensor's cursor; gives a RunRequest for the
build job when the folder's fingerprint — a hash of the sorted (name, size, mtime) of its files —
differs from the cursor, else a SkipReason saying why not. The fingerprint is also the run key, so
one state of the folder is built once however often the sensor looks. Each look also keeps the report
partitions (pipeline/orchestration/partitions.py) in step with the folder: a partition added for each
new report file, removed for each file gone.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipeline.orchestration.partitions import REPORTS_PARTITIONS, partition_requests, report_names
from pipeline.orchestration.settings import BuildSettings

SENSOR_INTERVAL_S = 60
# A file changed this recently may still be being copied in; the next evaluation looks again.
SETTLE_S = 30.0


@dataclass(frozen=True)
class RawFolderState:
    fingerprint: str
    files: int
    newest_mtime: float  # 0 when the folder is empty


def raw_folder_state(raw_dir: Path) -> RawFolderState:
    """The fingerprint of the folder's visible files (names, sizes, modification times)."""
    entries = []
    for path in raw_dir.iterdir():
        if path.is_file() and not path.name.startswith("."):  # hidden files: editors' and copiers' temp files
            st = path.stat()
            entries.append((path.name, st.st_size, st.st_mtime_ns))
    entries.sort()
    digest = hashlib.sha256()
    for name, size, mtime_ns in entries:
        digest.update(os.fsencode(name) + f"\0{size}\0{mtime_ns}\n".encode())  # any name the file system allows
    newest = max((mtime_ns for _, _, mtime_ns in entries), default=0) / 1e9
    return RawFolderState(digest.hexdigest(), len(entries), newest)


def evaluate_raw_folder(
    raw_dir: Path, warehouse: Path, cursor: str | None, now: float
) -> tuple[dg.RunRequest | dg.SkipReason, str | None]:
    """What the sensor does for one look at the folder: (request or skip, the new cursor)."""
    if not raw_dir.is_dir():
        return dg.SkipReason(f"raw folder {raw_dir} does not exist"), cursor
    state = raw_folder_state(raw_dir)
    if state.fingerprint == cursor:
        return dg.SkipReason(f"no change in {raw_dir} ({state.files} files)"), cursor
    if now - state.newest_mtime < SETTLE_S:
        return dg.SkipReason(f"files in {raw_dir} changed less than {SETTLE_S:.0f} s ago; waiting"), cursor
    if cursor is None and warehouse.exists() and warehouse.stat().st_mtime >= state.newest_mtime:
        # First look (sensor just switched on): the warehouse is newer than every raw file.
        return dg.SkipReason("warehouse is newer than every raw file; watching for changes"), state.fingerprint
    request = dg.RunRequest(
        run_key=state.fingerprint,
        tags={"indicators/trigger": "raw_folder_changed", "indicators/raw_files": str(state.files)},
    )
    return request, state.fingerprint


@dg.sensor(
    job_name="build_warehouse",
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Builds the warehouse when files in the raw folder are added, removed or changed.",
)
def raw_folder_sensor(context: dg.SensorEvaluationContext, settings: BuildSettings) -> dg.SensorResult:
    raw = Path(settings.raw_dir)
    result, cursor = evaluate_raw_folder(raw, settings.warehouse, context.cursor, time.time())
    existing = context.instance.get_dynamic_partitions(REPORTS_PARTITIONS)
    partitions = partition_requests(existing, report_names(raw)) if raw.is_dir() else []
    if isinstance(result, dg.RunRequest):
        context.log.info(f"raw folder changed ({settings.raw_dir}); starting a build")
        return dg.SensorResult(run_requests=[result], cursor=cursor, dynamic_partitions_requests=partitions)
    return dg.SensorResult(skip_reason=result, cursor=cursor, dynamic_partitions_requests=partitions)
