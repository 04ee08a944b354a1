"""Where the project's own files are: the package, and beside it the SQL and the expectation suites."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent
SQL_DIR = PROJECT_DIR / "sql"
# The suites a build checks against; INDICATORS_EXPECTATIONS points a build (or a test) at others.
EXPECTATIONS_DIR = Path(os.environ.get("INDICATORS_EXPECTATIONS", PROJECT_DIR / "expectations"))


def default_warehouse() -> Path:
    """The warehouse file a build writes and the commands read: INDICATORS_WAREHOUSE, or warehouse/ here."""
    return Path(os.environ.get("INDICATORS_WAREHOUSE", PROJECT_DIR / "warehouse" / "indicators.duckdb")).resolve()
