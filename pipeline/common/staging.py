"""A run's staging folder, claimed with a lock the kernel drops when the process dies.

A build works in <warehouse dir>/.staging/<run id>/; the lock lets another build tell a folder still in
use from one a killed build left behind (pipeline/warehouse/housekeeping.py removes those).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

STAGE_LOCK = ".owner.lock"
_claimed: dict[Path, int] = {}  # staging folders this process works in, with their locked descriptors


def claim_stage_dir(stage_dir: Path) -> Path:
    """Create a run's staging folder and hold a lock in it for as long as this process lives, so another
    build can tell a folder still in use from one a killed build left (the kernel drops the lock)."""
    stage_dir = stage_dir.resolve()
    stage_dir.mkdir(parents=True, exist_ok=True)
    if stage_dir not in _claimed:
        fd = os.open(stage_dir / STAGE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _claimed[stage_dir] = fd
    return stage_dir


def release_stage_dir(stage_dir: Path) -> None:
    """Remove a run's staging folder and let go of its lock."""
    stage_dir = stage_dir.resolve()
    shutil.rmtree(stage_dir, ignore_errors=True)
    fd = _claimed.pop(stage_dir, None)
    if fd is not None:
        os.close(fd)


def stage_dir_in_use(folder: Path) -> bool | None:
    """Whether a live build holds the folder's lock; None when the folder has no lock (older builds)."""
    try:
        fd = os.open(folder / STAGE_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
