"""Helpers for the tests of gates, crash safety, bad input and the nightly build.

Small raw folders copied from raw/, builds in-process or as `indicators build` subprocesses, a
checksum of every warehouse table, and a minimal PDF writer for truncated-file tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipeline.orchestration.settings import BuildSettings

from .conftest import SAMPLE_FILES, sample_txt

ROOT = Path(__file__).parent.parent
INDICATORS = ROOT / ".venv" / "bin" / "indicators"
# build_summary figures that differ between two builds of the same input by design
RUN_DEPENDENT_METRICS = (
    "files_extracted",
    "files_from_cache",
    "reports_from_cache",
    "validations_from_cache",
    "reports_gate_checked",
)
# validation_results columns that say when and how (not what) a build checked
RUN_DEPENDENT_COLUMNS = ("run_id", "run_at", "element_count")
SUBPROCESS_TIMEOUT_S = 120


def make_raw(folder: Path, *keys: str) -> Path:
    """A raw folder with the named samples ("004", "000", ...) as text files."""
    folder.mkdir(parents=True, exist_ok=True)
    for key in keys:
        shutil.copy(sample_txt(key), folder)
    return folder


def copy_build(template: Path, target: Path) -> tuple[Path, Path]:
    """A copy of a built raw folder and warehouse folder (with its extraction cache): (raw, warehouse)."""
    shutil.copytree(template / "raw", target / "raw")
    shutil.copytree(template / "wh", target / "wh")
    return target / "raw", target / "wh" / "indicators.duckdb"


def build_template(base: Path, *keys: str) -> Path:
    """A warehouse of the given samples in base/wh, from base/raw: built once, tests work on copies."""
    from pipeline.cli import run_build

    ok, _, _ = run_build(settings_for(make_raw(base / "raw", *keys), base / "wh" / "indicators.duckdb"))
    assert ok
    return base


def sample_name(key: str) -> str:
    return f"{SAMPLE_FILES[key]}.txt"


def settings_for(raw: Path, warehouse: Path, **fields) -> BuildSettings:
    return BuildSettings(raw_dir=str(raw), warehouse_path=str(warehouse), workers=1, **fields)


def query(warehouse: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def table_checksums(warehouse: Path) -> dict[str, str]:
    """md5 of every table's rows in a fixed order; run-dependent figures left out."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database() order by 1"
            ).fetchall()
        ]
        sums = {}
        for table in tables:
            columns = [r[0] for r in con.execute(f'describe "{table}"').fetchall()]
            kept = [c for c in columns if not (table == "validation_results" and c in RUN_DEPENDENT_COLUMNS)]
            where = ""
            if table == "build_summary":
                where = "where metric not in (" + ", ".join(f"'{m}'" for m in RUN_DEPENDENT_METRICS) + ")"
            row = "concat_ws('|', " + ", ".join(f"coalesce(cast(\"{c}\" as varchar), '<null>')" for c in kept) + ")"
            sums[table] = con.execute(
                f"select count(*) || ':' || coalesce(md5(string_agg({row}, '\\n' order by {row})), '') "
                f'from "{table}" {where}'
            ).fetchone()[0]
    return sums


REPORT_HEADER = "Indikator\tPeriodens utfall\tPeriodens utfall VB {prev}\tPrognos helår\tÅrsmål\tKF:s årsmål\tPeriod"


def write_t1_report(path: Path, district: str, year: int, rows: list[str]) -> Path:
    """A small tertial-1 report: cover, goals, one indicator table with the given TAB-separated rows."""
    lines = [
        f"Tertialrapport 1 {year} för {district} stadsdelsnämnd",
        "",
        "KF:s inriktningsmål:",
        "",
        "1. Stockholm är en attraktiv, trygg, tillgänglig och växande stad för boende, företagande och besök",
        "",
        "KF:s mål för verksamhetsområdet:",
        "",
        "1.2 Invånare i Stockholm är självförsörjande",
        "",
        REPORT_HEADER.format(prev=year - 1),
        *rows,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- `indicators build` in a subprocess ----------------------------------------------------------


def start_build(raw: Path, warehouse: Path, **env: str) -> subprocess.Popen:
    """`indicators build` in its own process group (so a kill reaches its workers too)."""
    full_env = {**os.environ, "INDICATORS_WORKERS": "1", **env}
    return subprocess.Popen(
        [str(INDICATORS), "build", "--raw", str(raw), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        start_new_session=True,
    )


def wait_for_line(proc: subprocess.Popen, marker: str, timeout_s: float = SUBPROCESS_TIMEOUT_S) -> str:
    """Read the build's stderr until a line with `marker`; gives that line."""
    deadline = time.monotonic() + timeout_s
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if marker in line:
            return line
        if not line and proc.poll() is not None:
            raise AssertionError(f"build ended (exit {proc.returncode}) before {marker!r}")
    raise AssertionError(f"no {marker!r} within {timeout_s} s")


def kill_build(proc: subprocess.Popen) -> None:
    """kill -9 the build and every process it started."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=SUBPROCESS_TIMEOUT_S)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def run_cli_build(raw: Path, warehouse: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "INDICATORS_WORKERS": "1", **env}
    return subprocess.run(
        [str(INDICATORS), "build", "--raw", str(raw), "--warehouse", str(warehouse), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=SUBPROCESS_TIMEOUT_S,
    )


def python_in_subprocess(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S, cwd=ROOT
    )


# --- a minimal PDF ----------------------------------------------------------------------------

PAGE_TOP = 800
LINE_HEIGHT = 12
NAME_X = 40
FIRST_VALUE_X = 300
VALUE_STEP_X = 55


def _pdf_text(cell: str) -> bytes:
    raw = cell.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def page_stream(lines: list[str]) -> bytes:
    """The content stream of one page: the lines' cells as Helvetica text at fixed positions."""
    ops = [b"BT /F1 9 Tf"]
    for i, line in enumerate(lines):
        for j, cell in enumerate(line.split("\t")):
            x = NAME_X if j == 0 else FIRST_VALUE_X + VALUE_STEP_X * (j - 1)
            ops.append(b"1 0 0 1 %d %d Tm (%s) Tj" % (x, PAGE_TOP - LINE_HEIGHT * i, _pdf_text(cell)))
    ops.append(b"ET")
    return b"\n".join(ops)


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF with one Helvetica text line per string; TAB-separated cells at fixed x positions."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 1 + 2 * len(pages)
    kids = []
    for lines in pages:
        stream = page_stream(lines)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_id, font, content)
            )
        )
    add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)
