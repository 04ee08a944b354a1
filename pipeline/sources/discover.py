"""Discover the report files in the raw folder.

Takes a folder, gives SourceFiles (path, name, content hash, kind) in name order, the manifest
entries (optional `manifest.csv` in the folder: file -> district, report_type, year, tertial,
org_unit) and LoadErrors for entries that are not used, each with its reason: not a report (unknown
extension), not a regular file (a folder, a FIFO, a device: never opened), a link to nothing or to
somewhere outside the folder (never followed), empty (no bytes, or only white space). A file with
the same content as another is loaded once; the duplicate is reported by name. Names are kept in a
printable form (`printable_name`), so a name with bytes that are not UTF-8, or with control
characters, is loaded and reported like any other. Hidden entries (a leading dot) are left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.models import LoadError, SourceFile

MANIFEST_NAME = "manifest.csv"
MANIFEST_FIELDS = ("file", "district", "report_type", "year", "tertial", "org_unit")
REPORT_SUFFIXES = {".txt": "txt", ".pdf": "pdf"}
IGNORED_NAMES = {MANIFEST_NAME, "README.md", ".gitkeep"}
MANIFEST_MAX_BYTES = 10 << 20  # a manifest is a few lines per report
_HASH_CHUNK = 1 << 20
EMPTY_FILE = "empty file"
# Opened without following a final link and without blocking (a FIFO that slipped in must not hang).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    fingerprint: str = ""  # of everything a build reads (pipeline/build/incremental.py)
    up_to_date: bool = False  # the warehouse in place was built from exactly these inputs


class NotRegular(Exception):
    """An entry that is not a regular file inside the raw folder; the message is the reason."""


def printable_name(name: str) -> str:
    """A file name as text that prints and stores anywhere: bytes that are not UTF-8 as \\xNN, control
    characters escaped (a newline in a name must not break a one-line message)."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder, not a report file (reports go directly in the raw folder)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file; not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file; not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file; not read"
    return "not a regular file; not read"


def regular_file(path: Path, root: Path) -> Path:
    """The regular file `path` names inside `root` (a link is followed only when it stays inside)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        target = Path(os.path.realpath(path))
        if not target.exists():
            raise NotRegular("a symbolic link to nothing (dangling link); skipped")
        if not target.is_relative_to(root):
            raise NotRegular("a symbolic link to a place outside the raw folder; not followed")
        st, path = os.stat(target), target
    if not stat.S_ISREG(st.st_mode):
        raise NotRegular(_kind_of(st.st_mode))
    return path


def _open_regular(path: Path | str) -> int:
    """A file descriptor for a regular file; NotRegular when what is there now is something else."""
    fd = os.open(path, _OPEN_FLAGS)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegular(_kind_of(mode))
    return fd


def sha256_of(path: Path | str) -> str:
    return _hash_regular(path)[0]


def _hash_regular(path: Path | str) -> tuple[str, int, bool]:
    """Content hash and size of a regular file, read through one descriptor checked to be one, and
    whether it holds nothing but white space."""
    digest = hashlib.sha256()
    size = 0
    blank = True
    with os.fdopen(_open_regular(path), "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            blank = blank and not chunk.strip()
    return digest.hexdigest(), size, blank


def _empty(size: int, blank: bool) -> str | None:
    """Why a file with no content is rejected; None for one with content. Before the duplicate check:
    empty files all have the same content, and each is empty, not a copy of the first."""
    if size == 0:
        return EMPTY_FILE
    return f"{EMPTY_FILE} (only white space)" if blank else None


def read_manifest(raw_dir: Path, names: set[str] | None = None) -> tuple[dict[str, dict[str, str]], list[LoadError]]:
    """The manifest's rows by file name; `names` are the files in the folder (printable names)."""
    path = raw_dir / MANIFEST_NAME
    if not os.path.lexists(path):
        return {}, []
    try:
        fd = _open_regular(regular_file(path, raw_dir.resolve()))
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MANIFEST_MAX_BYTES + 1)
    except (NotRegular, OSError) as exc:
        return {}, [LoadError(MANIFEST_NAME, "discover", f"{_reason(exc)}; manifest ignored")]
    if len(data) > MANIFEST_MAX_BYTES:
        return {}, [LoadError(MANIFEST_NAME, "discover", "larger than 10 MB; manifest ignored")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}, [LoadError(MANIFEST_NAME, "discover", "not UTF-8 text; manifest ignored")]
    entries: dict[str, dict[str, str]] = {}
    errors: list[LoadError] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    unknown = set(reader.fieldnames or []) - set(MANIFEST_FIELDS)
    if "file" not in (reader.fieldnames or []) or unknown:
        return {}, [LoadError(MANIFEST_NAME, "discover", f"manifest columns must be {', '.join(MANIFEST_FIELDS)}")]
    for row in reader:
        name = (row.get("file") or "").strip()
        if not name:
            continue
        present = name in names if names is not None else (raw_dir / name).is_file()
        if not present:
            errors.append(LoadError(name, "discover", f"named in {MANIFEST_NAME} but no such file in the raw folder"))
        entries[name] = {k: (v or "").strip() for k, v in row.items() if k != "file"}
    return entries, errors


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NotRegular):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    return f"cannot be read ({type(exc).__name__})"


def discover_reports(raw_dir: str | Path) -> Discovery:
    raw = Path(raw_dir)
    result = Discovery()
    if not raw.is_dir():
        result.errors.append(LoadError(printable_name(str(raw)), "discover", "raw folder does not exist"))
        return result
    root = raw.resolve()
    with os.scandir(raw) as it:
        entries = sorted((e.name for e in it), key=os.fsencode)
    seen: dict[str, str] = {}
    names: set[str] = set()
    for entry in entries:
        if entry.startswith(".") or entry in IGNORED_NAMES:
            continue
        name = printable_name(entry)
        try:
            path = regular_file(raw / entry, root)
        except (NotRegular, OSError) as exc:
            result.errors.append(LoadError(name, "discover", _reason(exc)))
            continue
        names.add(name)
        suffix = os.path.splitext(name)[1]
        kind = REPORT_SUFFIXES.get(suffix.lower())
        if kind is None:
            result.errors.append(LoadError(name, "discover", f"not a report file (extension {suffix or 'none'})"))
            continue
        try:
            digest, size, blank = _hash_regular(path)
        except (NotRegular, OSError) as exc:
            result.errors.append(LoadError(name, "discover", _reason(exc)))
            continue
        if empty := _empty(size, blank):
            result.errors.append(LoadError(name, "discover", empty))
            continue
        if digest in seen:
            result.errors.append(LoadError(name, "discover", f"same content as {seen[digest]}; loaded once"))
            continue
        seen[digest] = name
        result.files.append(SourceFile(str(path), name, digest, size, kind))
    manifest, manifest_errors = read_manifest(raw, names)
    result.manifest = manifest
    result.errors = manifest_errors + result.errors
    return result


def discover_one(raw_dir: str | Path, name: str) -> Discovery:
    """One report of the folder by its name (as discover_reports prints it), checked as discover_reports
    checks every file, with its manifest row: what one report's partition reads. Whether it is a copy of
    another file only the whole folder tells (discover_reports); here it is read like any other."""
    raw = Path(raw_dir)
    result = Discovery()
    entry = next((e for e in _entries(raw) if printable_name(e) == name), None)
    if entry is None or entry.startswith(".") or entry in IGNORED_NAMES:
        result.errors.append(LoadError(name, "discover", "no such report file in the raw folder"))
        return result
    kind = REPORT_SUFFIXES.get(os.path.splitext(name)[1].lower())
    try:
        path = regular_file(raw / entry, raw.resolve())
        if kind is None:
            raise NotRegular(f"not a report file (extension {os.path.splitext(name)[1] or 'none'})")
        digest, size, blank = _hash_regular(path)
    except (NotRegular, OSError) as exc:
        result.errors.append(LoadError(name, "discover", _reason(exc)))
        return result
    if empty := _empty(size, blank):
        result.errors.append(LoadError(name, "discover", empty))
        return result
    result.files.append(SourceFile(str(path), name, digest, size, kind))
    manifest, _ = read_manifest(raw, {name})
    result.manifest = {name: manifest[name]} if name in manifest else {}
    return result


def _entries(raw: Path) -> list[str]:
    try:
        with os.scandir(raw) as it:
            return [e.name for e in it]
    except OSError:
        return []
