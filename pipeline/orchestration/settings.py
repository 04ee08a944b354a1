"""BuildSettings: the Dagster resource that says where reports are read and the warehouse is written.

Each field's default comes from the environment (INDICATORS_*), so `indicators build`, `make dev` and
the nightly schedule read the same folders unless told otherwise.
"""

import os
from pathlib import Path

import dagster as dg

from pipeline.common.paths import PROJECT_DIR
from pipeline.common.sealed import SHARED_KEY_ENV, shared_key
from pipeline.common.storage import CACHE_OPTIONS_ENV, CACHE_URL_ENV, attach_store, store_options
from pipeline.sources.extract import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from pipeline.warehouse.gates import DEFAULT_RETRY_WAIT_S
from pipeline.warehouse.value_changes import VALUE_CHANGE_LIMIT


class BuildSettings(dg.ConfigurableResource):
    """Where the reports are read from and the warehouse is written to."""

    raw_dir: str = os.environ.get("INDICATORS_RAW", str(PROJECT_DIR / "raw"))
    warehouse_path: str = os.environ.get("INDICATORS_WAREHOUSE", str(PROJECT_DIR / "warehouse" / "indicators.duckdb"))
    workers: int = int(os.environ.get("INDICATORS_WORKERS", os.cpu_count() or 1))
    timeout_s: float = float(os.environ.get("INDICATORS_EXTRACT_TIMEOUT", DEFAULT_TIMEOUT_S))
    memory_mb: int = int(os.environ.get("INDICATORS_EXTRACT_MEMORY_MB", DEFAULT_MEMORY_MB))
    # A published report that would go, or a real drop in its rows (a shorter re-issue), blocks the
    # swap until someone accepts it (--accept-losses; --accept-row-drops is the older name).
    accept_row_drops: bool = any(
        os.environ.get(f"INDICATORS_ACCEPT_{name}", "") not in ("", "0") for name in ("LOSSES", "ROW_DROPS")
    )
    # A published report more than this share of whose values read differently when it is read again (a
    # new version of the code or a library) is held back, its published rows kept; 1: never held back.
    value_change_limit: float = float(os.environ.get("INDICATORS_VALUE_CHANGE_LIMIT", VALUE_CHANGE_LIMIT))
    # Wait before the load step retries a transient failure (lock held by another build, I/O error).
    retry_wait_s: float = float(os.environ.get("INDICATORS_RETRY_WAIT_S", DEFAULT_RETRY_WAIT_S))
    # Where cached results are shared (pipeline/common/storage.py): "" keeps them in the warehouse folder
    # alone; a folder or an fsspec URL (s3://bucket/prefix) is reached by every worker and build. Its
    # entries are sealed with the secret INDICATORS_CACHE_KEY, which every worker must be given.
    cache_url: str = os.environ.get(CACHE_URL_ENV, "")
    cache_options: str = os.environ.get(CACHE_OPTIONS_ENV, "")  # fsspec storage options, JSON

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path).resolve()

    @property
    def cache_dir(self) -> Path:
        return self.open_cache()

    def open_cache(self) -> Path:
        """The local cache folder, with the shared store (if any) attached, so every stage that opens
        the cache fetches what is missing here and shares what it writes."""
        folder = self.warehouse.parent / ".cache"
        if self.cache_url and shared_key() is None:
            raise ValueError(
                f"a shared cache ({CACHE_URL_ENV}={self.cache_url}) needs the secret {SHARED_KEY_ENV}, "
                "the same on every worker, to seal and check its entries"
            )
        attach_store(folder, self.cache_url, store_options(self.cache_options))
        return folder

    def stage_dir(self, run_id: str) -> Path:
        return self.warehouse.parent / ".staging" / run_id

    def affecting_output(self) -> dict[str, object]:
        """The settings that can change what a build gives (which files time out, whether drops publish)."""
        return {
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "accept_row_drops": self.accept_row_drops,
            "value_change_limit": self.value_change_limit,
        }
