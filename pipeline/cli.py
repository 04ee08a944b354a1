"""The `indicators` command: build the warehouse, query it read-only.

`indicators build` runs the Dagster job in-process (the same job the nightly schedule runs) and
prints the build summary. Errors a user sees name the file, the stage and the reason on one line.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from pathlib import Path

from pipeline.assets import BuildSettings
from pipeline.load import connect_read_only

log = logging.getLogger("indicators")


def _settings(args: argparse.Namespace) -> BuildSettings:
    fields = {}
    if args.raw:
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


def _root_cause(err) -> str:
    """Dagster wraps the stage's exception; the user needs the innermost message."""
    while err is not None and getattr(err, "cause", None) is not None:
        err = err.cause
    if err is None:
        return "unknown error"
    lines = [ln.strip() for ln in err.message.strip().splitlines() if ln.strip().strip("^~ ")]
    # A dg.Failure carries a sentence for the user; its class name is noise to them.
    return " ".join(lines[:3]).removeprefix("dagster._core.definitions.events.Failure: ")


def build_instance():
    """The Dagster instance at $DAGSTER_HOME when it is set, so the run, its materializations and check
    results show in the UI (`make dev`); a throw-away one otherwise."""
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def run_build(settings: BuildSettings) -> tuple[bool, dict[str, int], list]:
    """Run the build job in-process; returns (success, summary, load errors)."""
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
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"build failed in {event.step_key}: {_root_cause(event.step_failure_data.error)}", file=sys.stderr
                )
        return False, {}, []
    summary = result.output_for_node("warehouse")
    errors = (
        result.output_for_node("report_files").errors
        + result.output_for_node("extracted_texts")[1]
        + result.output_for_node("parsed_reports").errors
    )
    return True, summary, errors


def print_summary(summary: dict[str, int], errors: list, warehouse: Path) -> None:
    print(f"warehouse: {warehouse}")
    for key in (
        "reports_found",
        "reports_loaded",
        "files_rejected",
        "files_extracted",
        "files_from_cache",
        "rows_parsed",
        "rows_loaded",
        "rows_flagged",
        "rows_quarantined",
        "checks_run",
        "checks_warned",
    ):
        print(f"  {key.replace('_', ' '):<18} {summary.get(key, 0)}")
    if summary.get("checks_warned"):
        print("  checks that warned: select * from validation_results where not success")
    rejected = [e for e in errors if not e.reason.startswith("warning:")]
    warnings = [e for e in errors if e.reason.startswith("warning:")]
    for e in rejected:
        print(f"  rejected {e.file} [{e.stage}]: {e.reason}")
    if warnings:
        print(f"  {len(warnings)} parse warnings (see table load_errors)")


def cmd_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    ok, summary, errors = run_build(settings)
    if not ok:
        print(f"warehouse unchanged: {settings.warehouse}", file=sys.stderr)
        return 1
    print_summary(summary, errors, settings.warehouse)
    return 0


def _existing_warehouse(args: argparse.Namespace) -> Path | None:
    warehouse = _settings(args).warehouse
    if not warehouse.exists():
        print(f"no warehouse at {warehouse}: run `indicators build` first", file=sys.stderr)
        return None
    return warehouse


def cmd_query(args: argparse.Namespace) -> int:
    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    con = connect_read_only(warehouse)
    try:
        rel = con.sql(args.sql)
        if rel is None:
            return 0
        if args.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(rel.columns)
            writer.writerows(rel.fetchall())
        else:
            rel.show(max_rows=args.max_rows, max_width=10_000)
    except Exception as exc:  # noqa: BLE001 - show the database's message, not a traceback
        print(f"query failed: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline.export import export_relations

    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    for path in export_relations(warehouse, Path(args.dir), args.format):
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
    from pipeline.catalog import load_catalog

    warehouse = _existing_warehouse(args)
    if warehouse is None:
        return 1
    con = connect_read_only(warehouse)
    try:
        if args.unmatched:
            rel = con.sql(UNMATCHED_SQL)
            if args.csv:
                # rows to review, then paste into pipeline/data/indicator_names.csv (name, indicator_key)
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indicators", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--raw", help="folder with report files (default: raw/ or $INDICATORS_RAW)")
        sp.add_argument(
            "--warehouse", help="DuckDB file (default: warehouse/indicators.duckdb or $INDICATORS_WAREHOUSE)"
        )

    b = sub.add_parser("build", help="build the warehouse from the report files and print a summary")
    common(b)
    b.add_argument("--workers", type=int, help="extraction worker processes (default: all cores)")
    b.add_argument("--timeout", type=float, help="seconds one file may take to extract (default: 180)")
    b.add_argument(
        "--accept-row-drops",
        action="store_true",
        help="publish even if a report gives far fewer rows than in the current warehouse",
    )
    b.set_defaults(func=cmd_build)

    q = sub.add_parser("query", help="run SQL against the warehouse, opened read-only")
    common(q)
    q.add_argument("sql", help="the SQL to run")
    q.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    q.add_argument("--max-rows", type=int, default=100, help="rows to show in a table (default: 100)")
    q.set_defaults(func=cmd_query)

    c = sub.add_parser("catalog", help="indicator catalog: counts, and names waiting for review")
    common(c)
    c.add_argument("--unmatched", action="store_true", help="list printed names the catalog does not know")
    c.add_argument("--csv", action="store_true", help="with --unmatched: CSV rows for indicator_names.csv")
    c.set_defaults(func=cmd_catalog)

    e = sub.add_parser("export", help="write the published views and tables as Parquet or CSV files")
    common(e)
    e.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    e.add_argument("dir", help="output folder")
    e.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("INDICATORS_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
