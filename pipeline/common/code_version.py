"""CODE_VERSION: a digest of every file whose change can change what a build gives, and of the
versions of the libraries that read, parse, validate and load (their ranges are open).

Per-report caches, the "up to date" fingerprint and the offline report's pages carry it, so a change
to the code, SQL, suites or reference data, or an upgraded library, makes them stale with no version
number to bump: after an upgrade every report is read again, never old files with the old reading and
new files with the new one.
"""

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline.common.paths import EXPECTATIONS_DIR, PACKAGE_DIR, SQL_DIR


def _tree_digest(digest, folder: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())


# The libraries whose reading of a file can change what a build gives; pdfminer.six alone extracts.
LIBRARIES = ("pdfminer.six", "polars", "duckdb", "great-expectations")
EXTRACT_LIBRARIES = ("pdfminer.six",)


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """The installed version of each library ("absent" when it is not installed)."""
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def libraries_digest(digest, versions: dict[str, str]) -> None:
    for name, number in sorted(versions.items()):
        digest.update(f"{name}=={number}\n".encode())


def code_version(libraries: dict[str, str] | None = None) -> str:
    """Every file whose change can change what a build gives (the code, SQL, suites and reference
    data) and the libraries' versions (`libraries`, default: those installed)."""
    digest = hashlib.sha256()
    _tree_digest(digest, PACKAGE_DIR, ("**/*.py", "data/**/*.csv"))
    _tree_digest(digest, SQL_DIR, ("**/*.sql",))
    _tree_digest(digest, Path(EXPECTATIONS_DIR), ("*.json",))
    libraries_digest(digest, library_versions() if libraries is None else libraries)
    return digest.hexdigest()[:16]


CODE_VERSION = code_version()
