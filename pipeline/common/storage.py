"""Where cached results are shared between machines: a folder, or any fsspec URL (s3://bucket/prefix, gs://,
az://, ...), set by INDICATORS_CACHE_URL.

A build always works in its local cache folder (`<warehouse dir>/.cache`: extraction workers write there,
the stages read there). With a store attached to that folder, an entry missing locally is fetched from
the store, and every entry written locally is also put there, so a worker on another machine (a Dagster
run of one report's partition) and the build that loads the warehouse share their results. What is put
is the sealed entry as it is on disk (pipeline/common/sealed.py): the store holds bytes, and whoever
fetches them checks the MAC before use, so a store needs no trust of its own, only the shared key
(INDICATORS_CACHE_KEY). Names in the store are the entries' paths below the cache folder
(`extract/<sha>.v<version>.json`, `reports/<key>.<kind>`), content-addressed like the local ones.

Writes are whole: a local folder gets a temporary file renamed into place, an object store one PUT.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_URL_ENV = "INDICATORS_CACHE_URL"
# fsspec storage options as JSON, e.g. {"endpoint_url": "http://127.0.0.1:9000"} for an S3-compatible server;
# credentials come the usual way (AWS_* variables, an instance role), never from here
CACHE_OPTIONS_ENV = "INDICATORS_CACHE_OPTIONS"


# Entries asked of a store in one batch: concurrent requests, their answers in memory together (an
# extraction is up to a few MB).
FETCH_BATCH = 64


def batches(items: list, size: int = FETCH_BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoreError(RuntimeError):
    """The store could not be read or written (unreachable, no permission)."""


class Store:
    """Bytes by name (a path below the store's root, with '/')."""

    url: str

    def get(self, name: str) -> bytes | None:
        """The bytes stored under `name`; None when there are none."""
        raise NotImplementedError

    def get_many(self, names: Iterable[str]) -> dict[str, bytes]:
        """The bytes of those of `names` that are stored (others are left out)."""
        found = {}
        for name in names:
            data = self.get(name)
            if data is not None:
                found[name] = data
        return found

    def put(self, name: str, data: bytes) -> None:
        raise NotImplementedError


class LocalStore(Store):
    """A folder (a shared mount, or a second disk): entries renamed into place whole."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def get(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cache store {self.url}: cannot read {name}: {exc}") from exc

    def put(self, name: str, data: bytes) -> None:
        path = self.root / name
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cache store {self.url}: cannot write {name}: {exc}") from exc


class FsspecStore(Store):
    """Any fsspec file system by URL; on an object store each entry is one object written in one PUT
    (an object appears whole or not at all)."""

    def __init__(self, url: str, options: dict | None = None) -> None:
        import fsspec

        self.url = url.rstrip("/")
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(options or {}))
        except (ImportError, ValueError) as exc:  # no driver for the scheme (pip install 'sdn-indicators[s3]')
            raise StoreError(f"cache store {url}: {exc}") from exc

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def get(self, name: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(name))
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - a driver's own errors: one line naming the store
            raise StoreError(f"cache store {self.url}: cannot read {name}: {type(exc).__name__}: {exc}") from exc

    def get_many(self, names: Iterable[str]) -> dict[str, bytes]:
        """Fetched concurrently where the driver can (s3fs, gcsfs: one batch of requests); callers ask for
        a bounded number at a time (FETCH_BATCH), since the answers are held in memory together."""
        paths = {self._path(n): n for n in names}
        if not paths:
            return {}
        try:
            got = self.fs.cat(list(paths), on_error="return")
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cache store {self.url}: cannot read: {type(exc).__name__}: {exc}") from exc
        found = {}
        for path, data in got.items():
            name = paths.get(path) or paths.get(self.fs._strip_protocol(path))
            if name is None or isinstance(data, FileNotFoundError):
                continue
            if isinstance(data, BaseException):
                raise StoreError(f"cache store {self.url}: cannot read {name}: {type(data).__name__}: {data}")
            found[name] = data
        return found

    def put(self, name: str, data: bytes) -> None:
        try:
            self.fs.pipe_file(self._path(name), data)
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"cache store {self.url}: cannot write {name}: {type(exc).__name__}: {exc}") from exc


def open_store(url: str, options: dict | None = None) -> Store:
    """The store a URL names: a plain path or file:// is a folder, anything else goes through fsspec."""
    if "://" not in url:
        return LocalStore(Path(url).resolve())
    if url.startswith("file://"):
        return LocalStore(Path(url.removeprefix("file://")).resolve())
    return FsspecStore(url, options)


def store_options(text: str | None = None) -> dict:
    """INDICATORS_CACHE_OPTIONS as a dict ({} when unset); ValueError naming the variable when it is not JSON."""
    text = os.environ.get(CACHE_OPTIONS_ENV, "") if text is None else text
    if not text.strip():
        return {}
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{CACHE_OPTIONS_ENV} is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise ValueError(f"{CACHE_OPTIONS_ENV} must be a JSON object")
    return options


# --- the store of a cache folder ---------------------------------------------------------------

_attached: dict[Path, Store] = {}  # by local cache folder (resolved)
_opened: dict[tuple[str, str], Store] = {}  # one client per URL and options in a process


def attach_store(cache_dir: Path, url: str | None, options: dict | None = None) -> Store | None:
    """Share the cache folder's entries through the store at `url` (None or "": the folder alone)."""
    folder = cache_dir.resolve()
    if not url:
        _attached.pop(folder, None)
        return None
    opened_key = (url, json.dumps(options or {}, sort_keys=True))
    if opened_key not in _opened:
        _opened[opened_key] = open_store(url, options)
    _attached[folder] = _opened[opened_key]
    return _attached[folder]


def store_of(cache_dir: Path) -> Store | None:
    """The store attached to a cache folder, if any."""
    return _attached.get(cache_dir.resolve()) if _attached else None
