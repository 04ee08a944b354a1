"""The content-addressed extraction cache: one JSON entry per file content hash and EXTRACTOR_VERSION (a
hash of the extraction code and pdfminer.six's version), sealed with the warehouse folder's key
(pipeline/common/sealed.py), read back checked, and pruned of stale entries. With a store attached to the
cache folder (INDICATORS_CACHE_URL, pipeline/common/storage.py) an entry missing locally is fetched from it,
checked, and an entry extracted here is put there."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.code_version import EXTRACT_LIBRARIES, libraries_digest, library_versions
from pipeline.common.models import ExtractedText, SourceFile, TextLine
from pipeline.common.paths import PACKAGE_DIR
from pipeline.common.sealed import SealBroken, cache_key, open_sealed, read_sealed, write_sealed
from pipeline.common.storage import batches, store_of

log = logging.getLogger(__name__)


def extractor_version(libraries: dict[str, str] | None = None) -> str:
    """A change to the extraction code, or another pdfminer.six (`libraries`, default: the installed
    one), makes every cached extraction stale, with no version to bump."""
    digest = hashlib.sha256()
    for path in (*sorted(Path(__file__).parent.glob("extract*.py")), *sorted((PACKAGE_DIR / "pdf").glob("*.py"))):
        digest.update(path.read_bytes())
    libraries_digest(digest, library_versions(EXTRACT_LIBRARIES) if libraries is None else libraries)
    return digest.hexdigest()[:12]


EXTRACTOR_VERSION = extractor_version()


@dataclass(frozen=True)
class Extracted:
    file: SourceFile
    cache_path: Path
    pages: int | None
    from_cache: bool
    worker_peak_mb: float | None = None  # largest resident set of the worker process(es) that extracted it
    parts: int = 1  # read in parts by several workers (plan_jobs)


# --- the cache -------------------------------------------------------------------------------


def cache_path(cache_dir: Path, file: SourceFile) -> Path:
    return cache_dir / "extract" / f"{file.sha256}.v{EXTRACTOR_VERSION}.json"


def entry_key(path: Path) -> bytes:
    """The key that seals an entry (or a part file) of <cache>/extract/: the warehouse folder's."""
    return cache_key(path.parent.parent)


# A cache entry is sealed: a header line with the MAC of the rest, then the JSON lines. An entry
# changed, cut short or planted after it was written is found before use, discarded and extracted again.
def write_cache(path: Path, lines: list[TextLine]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps([entry(ln) for ln in lines], ensure_ascii=False).encode("utf-8")
    write_sealed(path, body, entry_key(path))


def entry(line: TextLine) -> list:
    """[page, line_no, text], and the flag and other reading where the extraction gave one."""
    if line.flag or line.other_reading:
        return [line.page, line.line_no, line.text, line.flag, line.other_reading]
    return [line.page, line.line_no, line.text]


class DamagedCacheEntry(Exception):
    """A cache entry that fails its check (its MAC does not match its name and content)."""


def read_cache(path: Path) -> list[TextLine]:
    """The lines of a cache entry, checked; DamagedCacheEntry when it fails its check."""
    body = verified_body(path)
    try:
        return [TextLine(*fields) for fields in json.loads(body)]
    except (ValueError, TypeError) as exc:  # written by this code, checksum right: should never happen
        raise DamagedCacheEntry(f"unreadable {path.name}: {exc}") from None


def verified_body(path: Path) -> bytes:
    """A cache entry's content once its MAC is found right (not parsed: most entries of a rebuild are
    only checked, their reports' results being cached further on)."""
    try:
        return read_sealed(path, entry_key(path))
    except SealBroken as exc:
        raise DamagedCacheEntry(str(exc)) from None


def cache_entry_problem(path: Path) -> str | None:
    """Why an entry cannot be used ("missing", a failed check), or None when it can."""
    try:
        verified_body(path)
    except FileNotFoundError:
        return "missing"
    except (OSError, DamagedCacheEntry) as exc:
        return str(exc)
    return None


DAMAGED_CACHE_WARNING = "warning: cached extraction failed its check (changed or damaged); extracted again"
STALE_TMP_S = 3600  # a temporary file this old was left by a killed worker, not one still writing
# The extraction of a file no longer among the reports (replaced by a new version, or removed) is
# kept this long after it was last used, then removed: the cache does not grow with every version
# of every report ever read, and a report moved out for a while and back is not read again.
UNUSED_ENTRY_S = 30 * 86400


def prune_cache(cache_dir: Path, in_use: set[str] | None = None) -> int:
    """Remove extractions made by other versions of the code, temporary files of killed workers, and
    extractions of files not `in_use` (content hashes) unused for UNUSED_ENTRY_S."""
    removed = 0
    now = time.time()
    for path in (cache_dir / "extract").glob("*"):
        current = path.name.endswith(f".v{EXTRACTOR_VERSION}.json")
        stale_version = path.suffix == ".json" and not current
        abandoned = ".tmp" in path.suffix and now - path.stat().st_mtime > STALE_TMP_S
        unused = (
            current
            and in_use is not None
            and path.name.split(".", 1)[0] not in in_use
            and now - path.stat().st_mtime > UNUSED_ENTRY_S
        )
        if stale_version or abandoned or unused:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _mark_used(path: Path) -> None:
    """A cache entry's modification time says when a build last used it (prune_cache)."""
    try:
        os.utime(path)
    except OSError:  # a cache on a read-only medium is still a cache
        pass


def load_extracted(item: Extracted) -> ExtractedText:
    return ExtractedText(item.file, read_cache(item.cache_path))


# --- the shared store ----------------------------------------------------------------------------


def store_name(path: Path) -> str:
    """An entry's name in the store: its path below the cache folder."""
    return f"{path.parent.name}/{path.name}"


def fetch_entries(cache_dir: Path, paths: list[Path]) -> set[Path]:
    """Entries missing locally, fetched from the cache folder's store in concurrent batches and checked before
    they are put in place; gives those now in place. One that fails its check is left out (one line says
    so): it is extracted again, and the new entry replaces it in the store."""
    store = store_of(cache_dir)
    if store is None or not paths:
        return set()
    by_name = {store_name(p): p for p in paths}
    fetched = set()
    for batch in batches(list(by_name)):
        fetched |= _put_in_place(store, by_name, store.get_many(batch))
    return fetched


def _put_in_place(store, by_name: dict[str, Path], found: dict[str, bytes]) -> set[Path]:
    fetched = set()
    for name, data in found.items():
        path = by_name[name]
        try:
            open_sealed(data, entry_key(path), path.name)
        except SealBroken as exc:
            log.warning("cache entry %s in %s failed its check (%s); extracted again", name, store.url, exc)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        fetched.add(path)
    return fetched


def publish_entries(cache_dir: Path, paths: list[Path]) -> int:
    """Put entries extracted here into the cache folder's store (each checked first: only what passes
    goes out). Gives how many were put."""
    store = store_of(cache_dir)
    if store is None:
        return 0
    put = 0
    for path in paths:
        try:
            data = path.read_bytes()
            open_sealed(data, entry_key(path), path.name)
        except (OSError, SealBroken):  # changed since it was written: the next build extracts it again
            continue
        store.put(store_name(path), data)
        put += 1
    return put
