"""Each report as a Dagster partition: one run of `report_results` per report file, on any executor or
run launcher, its results written to the cache a build reads (pipeline/build/per_report.py).

A partition's key names its report: the file name in the raw folder, with the few characters Dagster
keys cannot hold (runs of dots, which mean a range; `,`, `[`, `]`, `|`) and `%` itself percent-encoded,
so every name has one key and every key one name. Discovery keeps the partitions in step with the
folder: the sensor (pipeline/orchestration/sensors.py) and every build add the new files' partitions
and delete those of files gone.

The `warehouse` asset depends on every partition and stays the one writer: a build reads what the
partitions left in the cache, and does itself (on its own worker pool) whatever they did not.
"""

import os
import re
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from pipeline.build.per_report import ReportOutcome, build_one_report
from pipeline.orchestration.settings import BuildSettings
from pipeline.sources.discover import IGNORED_NAMES, REPORT_SUFFIXES, printable_name
from pipeline.sources.extract import ExtractSettings

REPORTS_PARTITIONS = "reports"
reports_partitions = dg.DynamicPartitionsDefinition(name=REPORTS_PARTITIONS)

_ESCAPED = re.compile(r"[%,\[\]|]|\.(?=\.)|(?<=\.)\.")


def partition_key(name: str) -> str:
    """The partition key of a report file's name (reversible: report_name gives the name back)."""
    return _ESCAPED.sub(lambda m: f"%{ord(m.group()):02X}", name)


def report_name(key: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), key)


def report_names(raw_dir: Path) -> list[str]:
    """The names of the report files in the folder, by their suffix alone (no file is opened: what the
    sensor can afford every minute). Discovery proper (discover_reports) also leaves out empty files and
    copies; a build removes their partitions."""
    try:
        entries = list(raw_dir.iterdir())
    except OSError:
        return []
    return sorted(
        printable_name(p.name)
        for p in entries
        if not p.name.startswith(".")
        and p.name not in IGNORED_NAMES
        and p.suffix.lower() in REPORT_SUFFIXES
        and p.is_file()
    )


def partition_changes(existing: Iterable[str], names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(keys to add, keys to delete) so that the partitions are those of `names`."""
    wanted = {partition_key(n) for n in names}
    have = set(existing)
    return sorted(wanted - have), sorted(have - wanted)


def partition_requests(existing: Iterable[str], names: Iterable[str]) -> list:
    """The sensor's requests that bring the partitions in step with the folder."""
    add, delete = partition_changes(existing, names)
    requests: list = []
    if add:
        requests.append(reports_partitions.build_add_request(add))
    if delete:
        requests.append(reports_partitions.build_delete_request(delete))
    return requests


def sync_partitions(instance: dg.DagsterInstance, names: Iterable[str]) -> tuple[int, int]:
    """Bring the instance's report partitions in step with `names` (a build's discovery); (added, deleted)."""
    add, delete = partition_changes(instance.get_dynamic_partitions(REPORTS_PARTITIONS), names)
    if add:
        instance.add_dynamic_partitions(REPORTS_PARTITIONS, add)
    for key in delete:
        instance.delete_dynamic_partition(REPORTS_PARTITIONS, key)
    return len(add), len(delete)


class NothingStored(dg.IOManager):
    """The IO manager of the report partitions: they give no value (their results are sealed into the
    cache), so nothing is stored or pickled, and a multiprocess or cluster executor may run them."""

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is not None:
            raise TypeError(f"{context.asset_key.to_user_string()} gives no value; its results are in the cache")

    def load_input(self, context: dg.InputContext) -> object:
        raise TypeError("the report partitions give no value to load; read their results from the cache")


@dg.io_manager
def nothing_stored(_init_context) -> NothingStored:
    return NothingStored()


NOTHING_STORED = "nothing_stored"


# Reports per run of a backfill. 1 (the default): a run per report, each with its own figures and its
# own failure. More: a run's start-up (seconds of imports, a pod on a cluster) is paid once a batch, but
# the batch's partitions share one set of figures, and one rejected report fails them all (README,
# "Running on a cluster").
REPORTS_PER_RUN_ENV = "INDICATORS_REPORTS_PER_RUN"


def reports_per_run(text: str | None = None) -> int:
    text = os.environ.get(REPORTS_PER_RUN_ENV, "") if text is None else text
    try:
        count = int(text or 1)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{REPORTS_PER_RUN_ENV} must be a whole number of reports, 1 or more (got {text!r})")
    return count


@dg.asset(
    partitions_def=reports_partitions,
    # None: Dagster's default, a run per partition (BackfillPolicy is still marked beta: no warning for it then)
    backfill_policy=dg.BackfillPolicy.multi_run(reports_per_run()) if reports_per_run() > 1 else None,
    io_manager_key=NOTHING_STORED,
    group_name="build",
    description="One report extracted, parsed, normalized and validated on its own (a partition per report "
    "file), its results sealed into the cache the warehouse build reads: a local folder, or the store at "
    "INDICATORS_CACHE_URL that every worker reaches. A rejected report fails its partition.",
)
def report_results(context: dg.AssetExecutionContext, settings: BuildSettings) -> dg.MaterializeResult:
    extract = ExtractSettings(settings.cache_dir, settings.workers, settings.timeout_s, settings.memory_mb)
    outcomes = []
    for i, key in enumerate(context.partition_keys):  # one key, or a batch (INDICATORS_REPORTS_PER_RUN)
        name = report_name(key)
        stage = settings.stage_dir(f"{context.run.run_id}-report-{i}")
        outcome = build_one_report(Path(settings.raw_dir), name, extract, stage)
        for warning in outcome.warnings:
            context.log.warning(f"{name}: {warning.removeprefix('warning: ')}")
        if not outcome.rejected:
            context.log.info(
                f"{name}: {outcome.pages or '-'} pages, {outcome.rows} rows ({outcome.rows_flagged} flagged, "
                f"{outcome.rows_quarantined} quarantined) in {outcome.seconds:.1f} s"
                + (" from the cache" if outcome.reused and not outcome.extracted else "")
            )
        outcomes.append(outcome)
    metadata = outcomes[0].metadata() if len(outcomes) == 1 else batch_metadata(outcomes)
    rejected = [o for o in outcomes if o.rejected]
    if rejected:  # the same file fails the same way: re-run it alone once it is replaced
        text = "; ".join(f"{o.name}: {o.rejected}" for o in rejected)
        raise dg.Failure(description=text, metadata=metadata, allow_retries=False)
    return dg.MaterializeResult(metadata=metadata)


def batch_metadata(outcomes: list[ReportOutcome]) -> dict[str, object]:
    """The figures of a batch of reports (every partition of the batch shows them): totals, and a table
    of each report's."""
    lines = ["| file | pages | rows | flagged | quarantined | s |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {o.name} | {o.pages or 0} | {o.rows} | {o.rows_flagged} | {o.rows_quarantined} | {o.seconds:.1f} |"
        for o in outcomes
    ]
    return {
        "reports": len(outcomes),
        "pages": sum(o.pages or 0 for o in outcomes),
        "rows": sum(o.rows for o in outcomes),
        "rows_valid": sum(o.rows_valid for o in outcomes),
        "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
        "rows_flagged": sum(o.rows_flagged for o in outcomes),
        "extracted": sum(1 for o in outcomes if o.extracted),
        "seconds": round(sum(o.seconds for o in outcomes), 2),
        "rejected": sum(1 for o in outcomes if o.rejected),
        "each_report": dg.MetadataValue.md("\n".join(lines)),
    }


PARTITION_ASSETS = [report_results]
