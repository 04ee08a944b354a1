"""The `indicators` command: build the warehouse, query it read-only.

`indicators build` runs the Dagster job in-process (the same job the nightly schedule runs) and
prints the build summary. Errors a user sees name the file, the stage and the reason on one line.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.common.paths import default_warehouse
from pipeline.common.staging import release_stage_dir
from pipeline.warehouse.housekeeping import NotAWarehouse, refuse_to_replace
from pipeline.warehouse.load import connect_read_only, is_duckdb_file
from pipeline.warehouse.query import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIMEOUT_S,
    MEMORY_ENV,
    TIMEOUT_ENV,
    QueryStopped,
    memory_label,
    memory_limit,
    run_bounded,
    timeout_seconds,
)

if TYPE_CHECKING:  # Dagster is imported by the commands that run it, so --help and query start at once
    from pipeline.orchestration.settings import BuildSettings

log = logging.getLogger("indicators")


def _settings(args: argparse.Namespace) -> BuildSettings:
    from pipeline.orchestration.settings import BuildSettings

    fields = {}
    if getattr(args, "raw", None):
        fields["raw_dir"] = str(Path(args.raw).resolve())
    if args.warehouse:
        fields["warehouse_path"] = str(Path(args.warehouse).resolve())
    if getattr(args, "workers", None):
        fields["workers"] = args.workers
    if getattr(args, "timeout", None):
        fields["timeout_s"] = args.timeout
    if getattr(args, "accept_row_drops", False):
        fields["accept_row_drops"] = True
    return BuildSettings(**fields)


INTERRUPTED = "interrupted by the user"
# `indicators build` published, but held back reports whose own rows failed a check (named in the summary).
HELD_BACK_EXIT = 3
_INTERRUPT_CLASSES = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}
# A dg.Failure and the pipeline's own errors carry a sentence for the user; their class name is noise.
_SENTENCE_CLASSES = re.compile(r"^(dagster\._core\.definitions\.events\.Failure|pipeline\.[\w.]+): ")


def _root_cause(err) -> str:
    """Dagster wraps the stage's exception; the user needs the innermost message."""
    chain = []
    while err is not None:
        chain.append(err)
        err = getattr(err, "cause", None)
    if not chain:
        return "unknown error"
    if any(getattr(e, "cls_name", None) in _INTERRUPT_CLASSES for e in chain):
        return INTERRUPTED
    lines = [ln.strip() for ln in chain[-1].message.strip().splitlines() if ln.strip().strip("^~ ")]
    return _SENTENCE_CLASSES.sub("", " ".join(lines[:3]))


def build_instance():
    """The Dagster instance at $DAGSTER_HOME when it is set, so the run, its materializations and check
    results show in the UI (`make dev`); a throw-away one otherwise."""
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def run_build(settings: BuildSettings) -> tuple[bool, dict[str, int], list]:
    """Run the build job in-process; returns (success, summary, load errors). A failed run whose warehouse
    was published (a later step, the report, failed) still gives its summary; one that published nothing
    gives an empty one."""
    from pipeline.definitions import build_definitions

    defs = build_definitions(settings)
    level = os.environ.get("INDICATORS_LOG", "CRITICAL")  # the summary below says what matters
    with build_instance() as instance:
        result = defs.resolve_job_def("build_warehouse").execute_in_process(
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": level}}}},
            instance=instance,
        )
    if not result.success:
        release_stage_dir(settings.stage_dir(result.run_id))  # no retry follows in-process
        failures = [
            (event.step_key, _root_cause(event.step_failure_data.error))
            for event in result.all_events
            if event.is_step_failure
        ]
        if any(cause == INTERRUPTED for _, cause in failures):  # Ctrl-C: no stage failed, the user stopped it
            print(f"build {INTERRUPTED}", file=sys.stderr)
            return False, {}, []
        for step, cause in failures:
            print(f"build failed in {step}: {cause}", file=sys.stderr)
        if result.is_node_success("warehouse"):  # published; a step after it (the report) failed
            return False, *_published(result, settings)
        return False, {}, []
    return True, *_published(result, settings)


def _published(result, settings: BuildSettings) -> tuple[dict[str, int], list]:
    """The summary and load errors of a run whose warehouse step succeeded."""
    summary = result.output_for_node("warehouse")
    if summary.get("up_to_date"):  # nothing was read this time: what the warehouse in place says
        from pipeline.build.incremental import previous_load_errors

        return summary, previous_load_errors(settings.warehouse)
    errors = (
        result.output_for_node("report_files").errors
        + result.output_for_node("extracted_texts")[1]
        + result.output_for_node("parsed_reports").errors
    )
    if summary.get("reports_held_back") or summary.get("values_changed"):  # the gate's: in the warehouse published
        from pipeline.build.incremental import previous_load_errors
        from pipeline.warehouse.holdback import GATE_STAGE

        errors += [e for e in previous_load_errors(settings.warehouse) if e.stage == GATE_STAGE]
    return summary, errors


# The summary names each rejected file, up to a point: many files rejected for one reason (a folder of
# empty files, of copies) are one line, and past REJECTED_LINES lines the rest are counted.
GROUP_FROM = 4  # files rejected in one stage for one reason: from this many, one line with a count
NAMES_SHOWN = 3
REJECTED_LINES = 20


def rejected_lines(rejected: list) -> list[str]:
    """Lines of the summary for the files not loaded; load_errors keeps every one."""
    groups: dict[tuple[str, str], list[str]] = {}
    for e in rejected:
        groups.setdefault((e.stage, e.reason), []).append(e.file)
    lines, counted = [], 0
    for (stage, reason), files in groups.items():
        if len(lines) >= REJECTED_LINES:
            break
        counted += len(files)
        if len(files) < GROUP_FROM:
            lines += [f"  rejected {file} [{stage}]: {reason}" for file in files]
            continue
        names = ", ".join(files[:NAMES_SHOWN])
        lines.append(f"  rejected {len(files):,} files [{stage}]: {reason} ({names}, …; all in load_errors)")
    if counted < len(rejected):
        lines.append(f"  rejected {len(rejected) - counted:,} more files for other reasons (all in load_errors)")
    return lines


def print_summary(summary: dict[str, int], errors: list, warehouse: Path) -> None:
    from pipeline.warehouse.holdback import HELD_BACK

    if summary.get("up_to_date"):
        print(f"warehouse up to date: {warehouse} (no report, manifest or code changed since it was built)")
    else:
        print(f"warehouse: {warehouse}")
    for key in (
        "reports_found",
        "reports_loaded",
        "files_rejected",
        "files_read_in_part",
        "files_extracted",
        "files_from_cache",
        "reports_from_cache",
        "rows_parsed",
        "rows_loaded",
        "rows_flagged",
        "rows_quarantined",
        "reports_held_back",
        "values_changed",
        "checks_run",
        "checks_warned",
    ):
        if key in ("values_changed", "files_read_in_part") and not summary.get(key):
            continue  # said only when there are some
        print(f"  {key.replace('_', ' '):<18} {summary.get(key, 0)}")
    if summary.get("checks_warned"):
        print("  checks that warned: select * from validation_results where not success")
    rejected = [e for e in errors if not e.reason.startswith("warning:")]
    warnings = [e for e in errors if e.reason.startswith("warning:")]
    held = [e for e in rejected if e.reason.startswith(HELD_BACK)]
    for e in held:
        print(f"  held back {e.file}: {e.reason.removeprefix(HELD_BACK).strip()}")
    for line in rejected_lines([e for e in rejected if not e.reason.startswith(HELD_BACK)]):
        print(line)
    if warnings:
        print(f"  {len(warnings)} parse warnings (see table load_errors)")


def cmd_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        refuse_to_replace(settings.warehouse)  # before minutes of extraction, not after
    except NotAWarehouse as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    ok, summary, errors = run_build(settings)
    if not ok and not summary:
        print(f"warehouse unchanged: {settings.warehouse}", file=sys.stderr)
        return 1
    print_summary(summary, errors, settings.warehouse)  # published, even when a later step failed
    _print_report_path(settings.warehouse)
    if ok and summary.get("reports_held_back"):
        return HELD_BACK_EXIT
    return 0 if ok else 1


def _print_report_path(warehouse: Path) -> None:
    from pipeline.report.site import default_report_dir, report_wanted

    index = default_report_dir(warehouse) / "index.html"
    if report_wanted() and index.is_file():
        print(f"report: {index}")


def _warehouse_path(args: argparse.Namespace) -> Path:
    return Path(args.warehouse).resolve() if args.warehouse else default_warehouse()


def _existing_warehouse(args: argparse.Namespace) -> Path | None:
    warehouse = _warehouse_path(args)
    problem = warehouse_problem(warehouse)
    if problem:
        print(problem, file=sys.stderr)
        return None
    return warehouse


def warehouse_problem(warehouse: Path) -> str | None:
    """One line when the path cannot be a warehouse to read; None when it looks like one."""
    if warehouse.is_dir():
        return f"{warehouse} is a folder, not a warehouse file (e.g. {warehouse / 'indicators.duckdb'})"
    if not warehouse.exists():
        return f"no warehouse at {warehouse}: run `indicators build` first"
    if not is_duckdb_file(warehouse):
        return f"{warehouse} is not a DuckDB warehouse file"
    return None


def _open(warehouse: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection | None:
    """The warehouse opened read-only and locked down, or None after one line saying why not."""
    try:
        return connect_read_only(warehouse, memory_limit=memory_limit)
    except duckdb.Error as exc:
        print(f"cannot open the warehouse {warehouse}: {_first_line(exc)}", file=sys.stderr)
        return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# `indicators query` runs one statement that reads. The connection itself refuses other files,
# ATTACH, extensions and settings (load.connect_read_only); this names each refusal in plain words.
QUERY_ALLOWED = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.CALL,
    duckdb.StatementType.PRAGMA,
}
_NO_SETTINGS = "changing settings (SET/RESET) is not allowed"
_NO_FILES = "reading or writing files is not allowed (use `indicators export` to write files)"
QUERY_REFUSALS = {
    duckdb.StatementType.SET: _NO_SETTINGS,
    duckdb.StatementType.VARIABLE_SET: _NO_SETTINGS,
    duckdb.StatementType.ATTACH: "attaching another database is not allowed",
    duckdb.StatementType.DETACH: "detaching a database is not allowed",
    duckdb.StatementType.LOAD: "installing or loading extensions is not allowed",
    duckdb.StatementType.EXTENSION: "installing or loading extensions is not allowed",
    duckdb.StatementType.COPY: _NO_FILES,
    duckdb.StatementType.EXPORT: _NO_FILES,
    duckdb.StatementType.COPY_DATABASE: _NO_FILES,
}


def query_refusal(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """Why `sql` is not run, in one line; None when it is one statement that only reads."""
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        return f"one statement per call, got {len(statements)}"
    kind = statements[0].type
    if kind in QUERY_ALLOWED:
        return None
    return QUERY_REFUSALS.get(
        kind, f"the warehouse is opened read-only: {kind.name.replace('_', ' ')} statements are not allowed"
    )


def _query_error(exc: Exception) -> str:
    if isinstance(exc, duckdb.PermissionException):  # external access is off
        return f"query refused: files outside the warehouse are not readable or writable ({_first_line(exc)})"
    if isinstance(exc, duckdb.InvalidInputException) and "configuration has been locked" in str(exc):
        return f"query refused: {_NO_SETTINGS}"
    return f"query failed: {str(exc).strip() or type(exc).__name__}"  # whole: its hints are on later lines


_CSV_BATCH_ROWS = 10_000  # rows fetched at a time: a large result is written as it comes


def _print_result(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> None:
    if not args.csv:
        rel = con.sql(args.sql)
        if rel is not None:
            rel.show(max_rows=args.max_rows, max_width=10_000)
        return
    con.execute(args.sql)
    if con.description is None:
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([column[0] for column in con.description])
    while rows := con.fetchmany(_CSV_BATCH_ROWS):
        writer.writerows(rows)


def _stopped(limit: str, args: argparse.Namespace) -> str:
    if limit == "time":
        return f"query stopped: it ran past the time limit of {args.timeout:g} s (--timeout)"
    return f"query stopped: it needed more than the memory limit of {memory_label(args.memory_limit)} (--memory-limit)"


def cmd_query(args: argparse.Namespace) -> int:
    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    con = _open(warehouse, args.memory_limit)
    if con is None:
        return 1
    try:
        refusal = query_refusal(con, args.sql)
        if refusal:
            print(f"query refused: {refusal}", file=sys.stderr)
            return 1
        run_bounded(con, lambda: _print_result(con, args), args.timeout or None)
    except QueryStopped as exc:
        print(_stopped(exc.limit, args), file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - show the database's message, not a traceback
        print(_query_error(exc), file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline.warehouse.export import ExportRefused, export_relations

    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    try:
        written = export_relations(warehouse, Path(args.dir), args.format)
    except (ExportRefused, OSError) as exc:
        print(f"export refused: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


UNMATCHED_SQL = """
select i.indicator_key, f.indicator_as_printed as name, i.proposed_key, p.indicator as proposed_indicator,
       i.proposed_score, count(*) as rows
from dim_indicator i
join fact_indicator_value f using (indicator_key)
left join dim_indicator p on p.indicator_key = i.proposed_key
where i.catalog_status = 'unmatched'
group by all
order by i.proposed_score desc nulls last, name
"""

CATALOG_SUMMARY_SQL = """
select count(*) filter (where catalog_status = 'curated') as curated_indicators,
       count(*) filter (where catalog_status = 'unmatched') as unmatched_indicators,
       sum(name_variants) filter (where catalog_status = 'curated') as curated_names_loaded
from dim_indicator
"""


def cmd_catalog(args: argparse.Namespace) -> int:
    from pipeline.model.catalog import load_catalog

    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    con = _open(warehouse)
    if con is None:
        return 1
    try:
        if args.unmatched:
            rel = con.sql(UNMATCHED_SQL)
            if args.csv:
                # rows to review, then paste into pipeline/common/data/indicator_names.csv (name, indicator_key)
                writer = csv.writer(sys.stdout, lineterminator="\n")
                writer.writerow(["name", "indicator_key", "proposed_indicator", "proposed_score"])
                for key, name, proposed, proposed_name, score, _ in rel.fetchall():
                    writer.writerow([name, proposed or key, proposed_name or "", score or ""])
            else:
                rel.show(max_rows=1000, max_width=10_000)
            return 0
        catalog = load_catalog()
        curated, unmatched, names_loaded = con.execute(CATALOG_SUMMARY_SQL).fetchall()[0]
        print(f"catalog: {len(catalog.entries)} canonical indicators, {len(catalog.names)} known names")
        print(
            f"warehouse: {curated} curated indicators ({names_loaded} printed names), "
            f"{unmatched} unmatched (see --unmatched)"
        )
    finally:
        con.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report.site import build_report, default_report_dir

    settings = _settings(args)
    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    out = Path(args.out) if args.out else default_report_dir(warehouse)
    try:
        figures = build_report(warehouse, out, Path(settings.raw_dir), args.workers)
    except Exception as exc:  # noqa: BLE001 - one line for the user; the previous report stays
        print(f"report failed: {exc} (previous report at {out} unchanged)", file=sys.stderr)
        return 1
    print(f"report: {figures.out_dir / 'index.html'} ({figures.pages} pages, {figures.charts} charts, ", end="")
    print(f"{figures.pages_written} pages written, {figures.charts_drawn} charts drawn, {figures.seconds:.1f} s)")
    return 0


def add_report_command(sub, common) -> None:
    r = sub.add_parser("report", help="write the offline report (static pages with charts) of the warehouse")
    common(r)
    r.add_argument("--out", help="output folder (default: report/ beside the warehouse or $INDICATORS_REPORT_DIR)")
    r.add_argument("--workers", type=int, help="processes drawing charts (default: all cores)")
    r.set_defaults(func=cmd_report)


def package_version() -> str:
    try:
        return version("sdn-indicators")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _option(convert):
    """An argparse type from a converter that raises ValueError with the reason."""

    def option(text: str):
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return option


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indicators", description=__doc__.split("\n\n")[0])
    p.add_argument("--version", action="version", version=f"indicators {package_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, raw: bool = True) -> None:
        """--warehouse for every command; --raw only for those that read the report files."""
        if raw:
            sp.add_argument("--raw", help="folder with report files (default: raw/ or $INDICATORS_RAW)")
        sp.add_argument(
            "--warehouse", help="DuckDB file (default: warehouse/indicators.duckdb or $INDICATORS_WAREHOUSE)"
        )

    b = sub.add_parser("build", help="build the warehouse from the report files and print a summary")
    common(b)
    b.add_argument("--workers", type=int, help="extraction worker processes (default: all cores)")
    b.add_argument("--timeout", type=float, help="seconds one file may take to extract (default: 180)")
    b.add_argument(
        "--accept-losses",
        "--accept-row-drops",
        dest="accept_row_drops",
        action="store_true",
        help="publish even if reports of the current warehouse would go, or give far fewer rows",
    )
    b.set_defaults(func=cmd_build)

    q = sub.add_parser("query", help="run SQL against the warehouse, opened read-only")
    common(q, raw=False)
    q.add_argument("sql", help="the SQL to run")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.add_argument("--max-rows", type=int, default=100, help="rows to show in a table (default: 100)")
    q.add_argument(
        "--memory-limit",
        type=_option(memory_limit),
        default=os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT),
        help=f"memory the statement may use, none spilled to disk (default: {DEFAULT_MEMORY_LIMIT} or ${MEMORY_ENV})",
    )
    q.add_argument(
        "--timeout",
        type=_option(timeout_seconds),
        default=os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_S)),
        help=f"seconds the statement may run, 0 for no limit (default: {DEFAULT_TIMEOUT_S:g} or ${TIMEOUT_ENV})",
    )
    q.set_defaults(func=cmd_query)

    c = sub.add_parser("catalog", help="indicator catalog: counts, and names waiting for review")
    common(c, raw=False)
    c.add_argument("--unmatched", action="store_true", help="list printed names the catalog does not know")
    c.add_argument("--csv", action="store_true", help="with --unmatched: CSV rows for indicator_names.csv")
    c.set_defaults(func=cmd_catalog)

    e = sub.add_parser("export", help="write the published views and tables as Parquet or CSV files")
    common(e, raw=False)
    e.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default: parquet)")
    e.add_argument("dir", help="output folder")
    e.set_defaults(func=cmd_export)

    add_report_command(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("INDICATORS_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except duckdb.Error as exc:  # a damaged or locked warehouse: one line, not a traceback
        print(f"{args.command} failed: {_first_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        unchanged = "; warehouse unchanged" if args.command == "build" else ""
        print(f"{args.command} {INTERRUPTED}{unchanged}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
