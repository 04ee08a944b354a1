"""Dagster assets: one per stage of the flow, each a thin call into its stage (pipeline/sources,
pipeline/build/stages.py, pipeline/warehouse, pipeline/report) that adds what Dagster shows: metadata,
checks, retries and the up-to-date short cut.

discover -> extract -> parse -> normalize -> validate -> load. Per-file work is fanned out inside
an asset (extract runs worker processes), not as one Dagster step per file: on two cores Dagster's
per-step overhead would cost more than the work. Beyond one machine the same per-report work runs as
partitions of `report_results` (pipeline/orchestration/partitions.py), one run per report on any run
launcher; the stages here then find each report's results in the shared cache and only load.
"""

from pathlib import Path

import dagster as dg

from pipeline.build.incremental import (
    INPUTS_KEY,
    inputs_fingerprint,
    is_up_to_date,
    previous_checks,
    previous_summary,
    published_cache_keys,
    reports_cache,
    warehouse_sound,
)
from pipeline.build.stages import (
    NormalizeStep,
    ParseStep,
    ValidateStep,
    normalize_all,
    parse_all,
    validate_all,
)
from pipeline.common.models import PARTIAL_WARNING, LoadError
from pipeline.common.staging import release_stage_dir
from pipeline.orchestration.partitions import report_names, report_results, sync_partitions
from pipeline.orchestration.settings import BuildSettings
from pipeline.sources.discover import Discovery, discover_reports
from pipeline.sources.extract import ExtractSettings, extract_all
from pipeline.sources.extract_cache import Extracted
from pipeline.warehouse.gates import (
    TRANSIENT_RETRIES,
    WAREHOUSE_SUITES,
    build_and_publish,
    check_metadata,
    failure_text,
    is_transient,
)
from pipeline.warehouse.housekeeping import remove_leftovers, warehouse_lock
from pipeline.warehouse.published import published_intact
from pipeline.warehouse.validate import ExpectationOutcome

BUILD_GROUP = "build"  # the stages; the published tables and views are in relation_assets.RELATIONS_GROUP


UP_TO_DATE = {"up_to_date": True}


@dg.asset(group_name=BUILD_GROUP, description="Report files in the raw folder, with content hashes and the manifest.")
def report_files(context: dg.AssetExecutionContext, settings: BuildSettings) -> Discovery:
    if not Path(settings.raw_dir).is_dir():  # a typo or a share not mounted: nothing to build from
        raise dg.Failure(description=f"raw folder {settings.raw_dir} does not exist or is not a folder")
    settings.open_cache()  # a shared cache without its key is refused before any work
    found = discover_reports(settings.raw_dir)
    added, removed = sync_partitions(context.instance, report_names(Path(settings.raw_dir)))
    if added or removed:
        context.log.info(f"report partitions: {added} added, {removed} removed")
    found.fingerprint = inputs_fingerprint(found, settings.affecting_output())
    # a file written to since it was published, or damaged, is built again: what it holds is not what was checked
    found.up_to_date = (
        warehouse_sound(settings.warehouse)
        and published_intact(settings.warehouse)
        and is_up_to_date(settings.warehouse, found.fingerprint)
    )
    context.log.info(f"{len(found.files)} report files in {settings.raw_dir}, {len(found.errors)} not used")
    if found.up_to_date:
        context.log.info(f"up to date: {settings.warehouse} was built from these files and this code")
    context.add_output_metadata(
        {"files": len(found.files), "not_used": len(found.errors), "up_to_date": found.up_to_date}
    )
    return found


@dg.asset(
    group_name=BUILD_GROUP,
    description="Text lines of every report (cached by content hash; PDFs in worker processes, "
    "a long one shared among them by pages).",
)
def extracted_texts(
    context: dg.AssetExecutionContext, settings: BuildSettings, report_files: Discovery
) -> tuple[list[Extracted], list[LoadError]]:
    if report_files.up_to_date:
        context.add_output_metadata(UP_TO_DATE)
        return [], []
    extract_settings = ExtractSettings(settings.cache_dir, settings.workers, settings.timeout_s, settings.memory_mb)
    done, errors = extract_all(report_files.files, extract_settings, progress=context.log.info)
    fresh = sum(1 for d in done if not d.from_cache)
    context.add_output_metadata(
        {
            "extracted": fresh,
            "pages_extracted": sum(d.pages or 0 for d in done if not d.from_cache),
            "read_in_parts": sum(1 for d in done if d.parts > 1),  # long PDFs shared among the workers by pages
            "from_cache": len(done) - fresh,
            "rejected": sum(1 for e in errors if not e.reason.startswith("warning:")),
        }
    )
    return done, errors


@dg.asset(group_name=BUILD_GROUP, description="Indicator tables, goals and report metadata parsed from the text lines.")
def parsed_reports(
    context: dg.AssetExecutionContext,
    settings: BuildSettings,
    report_files: Discovery,
    extracted_texts: tuple[list[Extracted], list[LoadError]],
) -> ParseStep:
    if report_files.up_to_date:
        context.add_output_metadata(UP_TO_DATE)
        return ParseStep(up_to_date=True)
    stage = settings.stage_dir(context.run.run_id)
    keep = published_cache_keys(settings.warehouse)  # what the published rows came from may be put back
    step = parse_all(report_files, extracted_texts[0], stage, settings.cache_dir, context.log.info, keep)
    rows = sum(p.rows for p in step.files)
    context.add_output_metadata({"reports": len(step.files), "rows": rows, "from_cache": step.from_cache})
    return step


@dg.asset(group_name=BUILD_GROUP, description="Typed indicator values (Polars): Swedish numbers, units, text cells.")
def normalized_indicators(
    context: dg.AssetExecutionContext, settings: BuildSettings, parsed_reports: ParseStep
) -> NormalizeStep:
    if parsed_reports.up_to_date:
        context.add_output_metadata(UP_TO_DATE)
        return NormalizeStep(settings.stage_dir(context.run.run_id), up_to_date=True)
    step = normalize_all(parsed_reports, settings.stage_dir(context.run.run_id), settings.cache_dir)
    context.add_output_metadata({"reports": len(step.facts), "from_cache": step.from_cache})
    return step


@dg.asset(
    group_name=BUILD_GROUP,
    description="Rows checked against the Great Expectations suites; failures quarantined.",
    check_specs=[
        dg.AssetCheckSpec(
            "indicator_facts_suite",
            asset="validated_indicators",
            description="expectations/indicator_facts.json on every normalized row before the load: keys, "
            "report type, year, name length, value ranges; failing rows are quarantined",
        )
    ],
)
def validated_indicators(
    context: dg.AssetExecutionContext, settings: BuildSettings, normalized_indicators: NormalizeStep
):
    if normalized_indicators.up_to_date:
        yield from _up_to_date_results(
            settings.warehouse, ValidateStep(normalized_indicators.stage_dir, up_to_date=True)
        )
        return
    step = validate_all(normalized_indicators, settings.cache_dir)
    failed = [o for o in step.outcomes if not o.success]
    figures = {"valid": step.rows_valid, "quarantined": step.rows_quarantined, "flagged": step.rows_flagged}
    yield dg.Output(step, metadata={**figures, "reports_from_cache": step.from_cache})
    result = _check_result("indicator_facts_suite", step.outcomes)
    yield dg.AssetCheckResult(  # failing rows are quarantined, not loaded: a warning here, the gate decides
        check_name=result.check_name,
        passed=not any(o.blocking for o in failed),
        severity=result.severity,
        metadata={**result.metadata, "rows_quarantined": step.rows_quarantined},
    )


@dg.asset(
    group_name=BUILD_GROUP,
    description="The DuckDB star schema, built into a new file, checked by the warehouse suites and swapped "
    "in atomically only when no blocking expectation failed (pipeline/warehouse/gates.py).",
    # every report's partition: lineage, and what a backfill must finish before the warehouse is built
    deps=[dg.AssetDep(report_results, partition_mapping=dg.AllPartitionMapping())],
    check_specs=[
        dg.AssetCheckSpec(
            f"{suite}_suite",
            asset="warehouse",
            blocking=True,
            description=f"expectations/{suite}.json on the new file, before the swap",
        )
        for suite in WAREHOUSE_SUITES
    ],
)
def warehouse(
    context: dg.AssetExecutionContext,
    settings: BuildSettings,
    report_files: Discovery,
    extracted_texts: tuple[list[Extracted], list[LoadError]],
    parsed_reports: ParseStep,
    validated_indicators: ValidateStep,
):
    if validated_indicators.up_to_date:
        yield from _up_to_date_results(settings.warehouse, None, report_files)
        return
    errors = report_files.errors + extracted_texts[1] + parsed_reports.errors
    rejected = {e.file for e in errors if not e.reason.startswith("warning:")}
    summary = {
        "reports_found": len(report_files.files),
        "reports_loaded": len(parsed_reports.files),
        "files_rejected": len(rejected),
        "files_extracted": sum(1 for d in extracted_texts[0] if not d.from_cache),
        "files_from_cache": sum(1 for d in extracted_texts[0] if d.from_cache),
        "reports_from_cache": parsed_reports.from_cache,  # parsed and normalized in an earlier build
        "validations_from_cache": validated_indicators.from_cache,
        "rows_parsed": sum(p.rows for p in parsed_reports.files),
        "rows_loaded": validated_indicators.rows_valid,
        "rows_flagged": validated_indicators.rows_flagged,
        "rows_quarantined": validated_indicators.rows_quarantined,
        # PDFs whose cross-reference table is damaged, read as far as their text could be found
        "files_read_in_part": len({e.file for e in parsed_reports.errors if f": {PARTIAL_WARNING}: " in e.reason}),
    }
    stage = validated_indicators.stage_dir
    present = [(f.name, f.sha256) for f in report_files.files]
    try:
        outcome = build_and_publish(
            stage,
            settings.warehouse,
            errors,
            summary,
            present,
            validated_indicators.outcomes,
            context.run.run_id,
            settings.accept_row_drops,
            state={INPUTS_KEY: report_files.fingerprint},
            reports_cache=reports_cache(settings.cache_dir),
            value_change_limit=settings.value_change_limit,
        )
    except Exception as exc:
        if is_transient(exc):  # the staging folder stays for the retry
            context.log.warning(f"transient failure, retrying in {settings.retry_wait_s:.0f} s: {exc}")
            raise dg.RetryRequested(TRANSIENT_RETRIES, seconds_to_wait=settings.retry_wait_s) from exc
        release_stage_dir(stage)
        raise
    release_stage_dir(stage)
    # Checks follow the output, so Dagster files them against this run's materialization, not the previous one.
    checks = [
        _check_result(f"{suite}_suite", outcomes)
        for suite, outcomes in outcome.gate.by_suite().items()
        if suite in WAREHOUSE_SUITES
    ]
    for o in outcome.gate.warnings:
        context.log.warning(f"check warned: {failure_text(o)}")
    for held in outcome.gate.held_back:  # the others publish; the checks above warn about it
        context.log.warning(f"report held back: {held.report_file}: {held.reason}")
    for o in outcome.gate.blocking_failures:
        context.log.error(f"blocking check failed: {failure_text(o)}")
    if not outcome.published:
        context.log.error(f"{outcome.reason}; rejected warehouse kept at {outcome.rejected_path}")
        yield from checks  # nothing was published: they describe the rejected file
        raise dg.Failure(
            description=f"{outcome.reason} (rejected warehouse kept at {outcome.rejected_path}; "
            f"{settings.warehouse} unchanged)",
            metadata={**outcome.figures, "rejected_path": str(outcome.rejected_path)},
            allow_retries=False,
        )  # the same input fails the same way
    yield dg.Output(outcome.figures, metadata={**outcome.figures, "path": str(settings.warehouse)})
    yield from checks


def warehouse_left_in_place(context: dg.AssetExecutionContext) -> bool:
    """Whether this run found the warehouse up to date and left it alone: what is made from it stands."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("warehouse"))
    if event is None or event.run_id != context.run.run_id or event.asset_materialization is None:
        return False
    flag = event.asset_materialization.metadata.get("up_to_date")
    return bool(flag is not None and flag.value)


def _up_to_date_results(warehouse: Path, validated: ValidateStep | None, report_files: Discovery | None = None):
    """Outputs and check results of a build that changes nothing: the checks are those of the warehouse
    in place, which was built and checked from the same inputs."""
    checks = previous_checks(warehouse)
    if validated is not None:
        yield dg.Output(validated, metadata=UP_TO_DATE)
        suites = {"indicator_facts_suite": "indicator_facts"}
    else:
        assert report_files is not None
        with warehouse_lock(warehouse):  # what builds killed since left behind goes, as in any build
            remove_leftovers(warehouse)
        files = len(report_files.files)
        figures = {**previous_summary(warehouse), "up_to_date": 1, "files_extracted": 0, "files_from_cache": files}
        yield dg.Output(figures, metadata={**figures, "path": str(warehouse), "up_to_date": True})
        suites = {f"{suite}_suite": suite for suite in WAREHOUSE_SUITES}
    for check_name, suite in suites.items():
        passed, expectations, run_id = checks.get(suite, (True, 0, ""))
        yield dg.AssetCheckResult(
            check_name=check_name,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"up_to_date": True, "expectations": expectations, "checked_in_run": run_id},
        )


@dg.asset(
    deps=[warehouse],
    group_name="report",
    description="The offline report of the published warehouse (pipeline/report/site.py): static pages with charts, "
    "written into a new folder and swapped in. Runs only after a successful publish, so a failed gate leaves "
    "the previous report in place. INDICATORS_REPORT=0 skips it.",
)
def report_site(context: dg.AssetExecutionContext, settings: BuildSettings) -> dg.MaterializeResult:
    from pipeline.report.site import build_report, default_report_dir, report_wanted

    if not report_wanted():
        context.log.info("report skipped (INDICATORS_REPORT=0)")
        return dg.MaterializeResult(metadata={"skipped": True})
    out = default_report_dir(settings.warehouse)
    if warehouse_left_in_place(context) and (out / "index.html").exists():
        return dg.MaterializeResult(metadata={"up_to_date": True, "path": str(out / "index.html")})
    try:
        figures = build_report(settings.warehouse, out, Path(settings.raw_dir), settings.workers)
    except Exception as exc:
        raise dg.Failure(
            description=f"report not written: {exc} (the warehouse was published; the previous report at {out} stays)",
            allow_retries=False,
        ) from exc
    context.log.info(
        f"report: {figures.pages} pages ({figures.pages_written} written), {figures.charts} charts "
        f"({figures.charts_drawn} drawn) in {figures.seconds:.1f} s"
    )
    return dg.MaterializeResult(
        metadata={
            "path": str(figures.out_dir / "index.html"),
            "pages": figures.pages,
            "charts": figures.charts,
            "pages_written": figures.pages_written,
            "charts_drawn": figures.charts_drawn,
            "seconds": round(figures.seconds, 2),
        }
    )


def _check_result(check_name: str, outcomes: list[ExpectationOutcome]) -> dg.AssetCheckResult:
    blocking = [o for o in outcomes if o.failed_blocking]
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=all(o.success for o in outcomes),
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata=check_metadata(outcomes),
    )


ALL_ASSETS = [
    report_files,
    extracted_texts,
    parsed_reports,
    normalized_indicators,
    validated_indicators,
    warehouse,
    report_site,
]
