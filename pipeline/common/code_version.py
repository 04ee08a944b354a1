"""CODE_VERSION: a digest of every file whose change can change what a build gives.

Per-report caches and the offline report's pages carry it, so a change to the code, SQL, suites or
reference data makes them stale with no version number to bump.
"""

import hashlib
from pathlib import Path

from pipeline.common.paths import EXPECTATIONS_DIR, PACKAGE_DIR, SQL_DIR


def _tree_digest(digest, folder: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())


def _code_version() -> str:
    """Every file whose change can change what a build gives: the code, SQL, suites and reference data."""
    digest = hashlib.sha256()
    _tree_digest(digest, PACKAGE_DIR, ("**/*.py", "data/**/*.csv"))
    _tree_digest(digest, SQL_DIR, ("**/*.sql",))
    _tree_digest(digest, Path(EXPECTATIONS_DIR), ("*.json",))
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()
