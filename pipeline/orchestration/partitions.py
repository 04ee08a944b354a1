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

import re
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from pipeline.build.per_report import build_one_report
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


@dg.asset(
    partitions_def=reports_partitions,
    io_manager_key=NOTHING_STORED,
    group_name="build",
    description="One report extracted, parsed, normalized and validated on its own (a partition per report "
    "file), its results sealed into the cache the warehouse build reads: a local folder, or the store at "
    "INDICATORS_CACHE_URL that every worker reaches. A rejected report fails its partition.",
)
def report_results(context: dg.AssetExecutionContext, settings: BuildSettings) -> dg.MaterializeResult:
    name = report_name(context.partition_key)
    extract = ExtractSettings(settings.cache_dir, settings.workers, settings.timeout_s, settings.memory_mb)
    stage = settings.stage_dir(f"{context.run.run_id}-report")
    outcome = build_one_report(Path(settings.raw_dir), name, extract, stage)
    for warning in outcome.warnings:
        context.log.warning(f"{name}: {warning.removeprefix('warning: ')}")
    if outcome.rejected:
        raise dg.Failure(  # the same file fails the same way: re-run it alone once it is replaced
            description=f"{name}: {outcome.rejected}", metadata=outcome.metadata(), allow_retries=False
        )
    context.log.info(
        f"{name}: {outcome.pages or '-'} pages, {outcome.rows} rows ({outcome.rows_flagged} flagged, "
        f"{outcome.rows_quarantined} quarantined) in {outcome.seconds:.1f} s"
        + (" from the cache" if outcome.reused and not outcome.extracted else "")
    )
    return dg.MaterializeResult(metadata=outcome.metadata())


PARTITION_ASSETS = [report_results]
