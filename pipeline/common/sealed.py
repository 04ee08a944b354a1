"""Files a build writes and a later build reads back, sealed with a keyed MAC and checked before use.

The per-report caches (pipeline/build/), the extraction cache and its part files (pipeline/sources/)
and the record of the published warehouse (pipeline/warehouse/published.py) live in the warehouse
folder, where anyone who can write there could change them; a checksum anyone can recompute proves
nothing. Each such file is `hmac-sha256 <hex>\\n` followed by its content: HMAC-SHA256 over the file's
name and content, so an entry edited, cut short, replaced by garbage, planted under a derived name or
copied over another entry fails the check (SealBroken) and the caller derives it again.

The key is 32 random bytes in `<warehouse folder>/.indicators.key`, made on first use, readable by
its owner only (0600) and never inside the cache folder. A key file that is not a regular file owned
by this user with no access for others is not trusted: it is replaced, and what was sealed with it
is derived again.

Caches shared between machines (pipeline/common/storage.py) need one key for all of them: the secret
INDICATORS_CACHE_KEY (64 hex digits), when set, seals and checks every cache folder's entries instead of
the folder's key file. The record of the published warehouse keeps the folder's own key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import shutil
import stat
from pathlib import Path

log = logging.getLogger(__name__)

KEY_NAME = ".indicators.key"
KEY_BYTES = 32
SHARED_KEY_ENV = "INDICATORS_CACHE_KEY"
HEADER = b"hmac-sha256 "
_keys: dict[Path, bytes] = {}  # per key file, read once per process


class SealBroken(ValueError):
    """Sealed bytes that do not carry a valid MAC of their name and content."""


def _mac(key: bytes, name: str, data: bytes) -> bytes:
    return hmac.new(key, name.encode("utf-8") + b"\0" + data, hashlib.sha256).hexdigest().encode("ascii")


def seal(data: bytes, key: bytes, name: str) -> bytes:
    """`data` with its MAC in front; `name` (the file's name) is bound in, so an entry moved to another name fails."""
    return HEADER + _mac(key, name, data) + b"\n" + data


def open_sealed(sealed: bytes, key: bytes, name: str) -> bytes:
    """The content of sealed bytes once their MAC is found right; SealBroken otherwise."""
    header, newline, data = sealed.partition(b"\n")
    if not newline or not header.startswith(HEADER):
        raise SealBroken("no MAC header")
    if not hmac.compare_digest(header[len(HEADER) :], _mac(key, name, data)):
        raise SealBroken("MAC mismatch")
    return data


def write_sealed(path: Path, data: bytes, key: bytes) -> None:
    """Write under a temporary name and rename: a killed build never leaves half an entry."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(seal(data, key, path.name))
    os.replace(tmp, path)


def read_sealed(path: Path, key: bytes) -> bytes:
    """The checked content of a sealed file; FileNotFoundError when there is none, SealBroken when it fails."""
    return open_sealed(path.read_bytes(), key, path.name)


def remove_entry(path: Path) -> None:
    """Remove what stands under an entry's name, also a folder planted there, so it can be written again."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# --- the key ---------------------------------------------------------------------------------


def key_path(folder: Path) -> Path:
    return folder / KEY_NAME


def cache_key(cache_dir: Path) -> bytes:
    """The key of a cache folder: the shared secret when one is set, else the one of the warehouse folder
    it is in (`<warehouse dir>/.cache`)."""
    shared = shared_key()
    if shared is None:
        return folder_key(cache_dir.parent)
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    return shared


def shared_key() -> bytes | None:
    """INDICATORS_CACHE_KEY as bytes; None when unset; ValueError naming the variable when malformed."""
    text = os.environ.get(SHARED_KEY_ENV, "").strip()
    if not text:
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"{SHARED_KEY_ENV} must be {2 * KEY_BYTES} hex digits "
            "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return key


def folder_key(folder: Path) -> bytes:
    """The warehouse folder's key, made on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    path = key_path(folder.resolve())  # the key file itself is never followed if it is a link
    if path not in _keys:
        _keys[path] = _load_or_make(path)
    return _keys[path]


def _load_or_make(path: Path) -> bytes:
    try:
        return _read_key(path)
    except FileNotFoundError:
        return _make_key(path, replace=False)
    except _UntrustedKey as exc:
        log.warning("key file %s %s; replaced with a new key (what was sealed with it is derived again)", path, exc)
        return _make_key(path, replace=True)


class _UntrustedKey(Exception):
    pass


def _read_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as exc:  # a symbolic link (ELOOP), unreadable
        raise _UntrustedKey(f"cannot be opened as a file ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        data = fh.read(KEY_BYTES + 1)
    if not stat.S_ISREG(st.st_mode):
        raise _UntrustedKey("is not a regular file")
    if st.st_uid != os.geteuid():
        raise _UntrustedKey(f"belongs to another user (uid {st.st_uid})")
    if st.st_mode & 0o077:
        raise _UntrustedKey(f"is readable or writable by others (mode {stat.S_IMODE(st.st_mode):o})")
    if len(data) != KEY_BYTES:
        raise _UntrustedKey(f"holds {len(data)} bytes, not {KEY_BYTES}")
    return data


def _make_key(path: Path, replace: bool) -> bytes:
    """A new key, written whole under a temporary name (0600 from the start) and then put in place: a
    build reading the key at the same moment sees no key or a whole one. When two builds make one at
    once the first in place wins and both use it."""
    key = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
            return key
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_key(path)
        return key
    finally:
        tmp.unlink(missing_ok=True)
