"""Reports the quality gate holds back: one report whose own rows fail never holds back the others.

A check over one report's own rows (its facts, its goals, its row of dim_report) is judged on that
report's share alone, with the expectation's threshold (`mostly`) applied to its own rows, so a misread
report is caught however big the warehouse is. A report that fails such a blocking check is left out
of the new warehouse and named in load_errors (stage `gate`, a reason starting "held back:" that says
what failed and what to do); the version of it published before, if any, stays; every other report
publishes. Checks over the whole warehouse (districts, indicators, row counts against the previous
file, reports that would go) still block the swap (pipeline/warehouse/gates.py).

Takes the gate's per-report shares, or the staging folder of a build (a report whose goal numbers or
rows repeat, as when its text is in the file twice, would break the load); gives HeldBack records.
`hold_back` takes those reports out of the staging folder and puts their published versions back
from the per-report cache (<key>.<what>.parquet, sealed as pipeline/build/stages.py writes it and checked
before use), so the next
candidate is built without them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline.common.paths import SQL_DIR
from pipeline.common.sealed import SealBroken, cache_key, read_sealed
from pipeline.warehouse.validate import SAMPLE_ROWS, ExpectationOutcome

log = logging.getLogger(__name__)

HELD_BACK = "held back:"  # how a held-back report's reason in load_errors starts
GATE_STAGE = "gate"  # its stage there
# Suites whose every row belongs to one report: a blocking expectation is judged per report.
REPORT_SUITES = ("fact_indicator_value", "dim_goal", "dim_report")
# Expectations that compare reports with each other: they judge the warehouse, not one report.
CROSS_REPORT = frozenset({"expect_column_values_to_be_unique"})
# A build's per-report staged files, <stage>/<what>/<report_key>.parquet, cached as <cache key>.<what>.parquet.
STAGED = ("facts", "goals", "valid", "quarantine")
NEEDED = ("goals", "valid", "quarantine")  # what the load reads of a report
HOLDBACK_SQL = SQL_DIR / "holdback"
SHOWN = 3  # examples named in a reason
MISREAD = "; numbers among them are neighbouring cells run together: its tables were misread"
# A report most of whose rows repeat an earlier row cell for cell holds its text more than once.
REPEATED_SHARE = 0.5


@dataclass
class Verdict:
    """Why one report is held back."""

    suites: list[str]  # the suites whose checks it failed
    checks: list[str]  # the expectations, as in validation_results.detail
    what: str  # what failed and what to do, one line


@dataclass
class HeldBack:
    report_key: str
    report_file: str
    verdict: Verdict
    previous: str | None = None  # the file name of its published version, kept in the new warehouse
    previous_lost: bool = False  # a version was published but cannot be kept (its cached result is gone)

    @property
    def reason(self) -> str:
        if self.previous:
            named = "" if self.previous == self.report_file else f" ({self.previous})"
            kept = f"the version published before{named} stays"
        elif self.previous_lost:
            kept = "the version published before cannot be kept (its cached result is gone)"
        else:
            kept = "no earlier version was published"
        return f"{HELD_BACK} {self.verdict.what}; {kept}"


# --- which reports fail on their own rows, and why --------------------------------------------


def failing_reports(
    shares: Mapping[str, Mapping[str, Sequence[ExpectationOutcome]]],
) -> dict[str, list[ExpectationOutcome]]:
    """Per report: its shares that fail a blocking expectation on its own rows. A share that could not be
    cut per report (an expectation that did not run) and cross-report ones judge the warehouse instead."""
    failing: dict[str, list[ExpectationOutcome]] = {}
    for by_report in shares.values():
        for key, outcomes in by_report.items():
            bad = [
                o
                for o in outcomes
                if o.failed_blocking and o.nonnull_count is not None and o.expectation not in CROSS_REPORT
            ]
            if bad:
                failing.setdefault(key, []).extend(bad)
    return failing


def verdict(failures: Sequence[ExpectationOutcome], years: tuple | None = None) -> Verdict:
    """What failed, in words, and what to do; `years`: (year, metadata source, years its Period cells name)."""
    texts = list(dict.fromkeys(_failure_words(o, years) for o in failures))
    more = f"; and {len(texts) - 2} more checks" if len(texts) > 2 else ""
    return Verdict(
        list(dict.fromkeys(o.suite for o in failures)),
        list(dict.fromkeys(o.detail for o in failures)),
        "; ".join(texts[:2]) + more,
    )


def _failure_words(o: ExpectationOutcome, years: tuple | None) -> str:
    if o.expectation == "expect_column_values_to_be_in_set" and o.column == "unit":
        units = list(dict.fromkeys(str(row["unit"]) for row in o.sample if row.get("unit") is not None))
        # a number inside a "unit" is a neighbouring cell's value: the reading, not the report, is wrong
        misread = MISREAD if any(ch.isdigit() for u in units for ch in u) else ""
        return (
            f"{o.unexpected_count} of {o.nonnull_count} rows have a unit outside the known set "
            f"(e.g. {', '.join(repr(u) for u in units[:SHOWN])}){misread}; fix the file or its manifest row, or, "
            "if the unit is real, add it to the unit expectations in expectations/ and to KNOWN_UNITS in "
            "pipeline/common/reference.py"
        )
    if o.column == "period_year_share" and years is not None:
        year, source, named = years
        share = next((row.get("period_year_share") for row in o.sample), None)
        share_text = f"only {share:.0%}" if isinstance(share, float) else "few"
        in_manifest = "manifest" in (source or "")
        where = "its row in manifest.csv" if in_manifest else "the file, or give it a row in manifest.csv"
        names = f" (they name {', '.join(str(y) for y in named[:SHOWN])})" if named else ""
        return (
            f"{share_text} of its Period cells name its year {year} or the year before{names}, so its year is "
            f"wrong and every row would be filed under it; correct {where}"
        )
    rows = "; ".join(
        " ".join(f"{k}={v}" for k, v in row.items() if k != "report_file") for row in o.sample[:SHOWN]
    )
    example = f" (e.g. {rows})" if rows else ""
    return (
        f"{o.detail}: {o.unexpected_count} of {o.element_count} rows unexpected{example}: {o.why}; "
        "fix the file or its manifest row"
    )


def report_years(candidate: Path, keys: Iterable[str]) -> dict[str, tuple]:
    """Per report: its year, where its metadata came from, and the years its Period cells name."""
    with duckdb.connect(str(candidate), read_only=True) as con:
        rows = con.execute(_sql("report_years"), [list(keys)]).fetchall()
    return {key: (year, source, named or []) for key, year, source, named in rows}


def staged_repeats(stage_dir: Path, keys: Sequence[str] | None) -> dict[str, Verdict]:
    """Staged reports among `keys` (None: all) whose goal numbers repeat, or most of whose rows repeat an
    earlier row cell for cell: the report's text is in its file more than once."""
    files = {
        what: [str(p) for p in _staged_files(stage_dir, what, keys)] or [str(stage_dir / what / "_empty.parquet")]
        for what in ("goals", "valid")
    }
    with duckdb.connect() as con:
        con.execute("SET VARIABLE repeat_goals = ?", [files["goals"]])
        con.execute("SET VARIABLE repeat_rows = ?", [files["valid"]])
        found = con.execute(_sql("staged_repeats")).fetchall()
    verdicts = {}
    for key, goals, examples, rows, repeated in found:
        parts, suites = [], []
        if goals:
            named = ", ".join(examples)
            parts.append(f"{goals} goal numbers are printed more than once (e.g. {named})")
            suites.append("dim_goal")
        if repeated and repeated >= REPEATED_SHARE * rows:
            parts.append(f"{repeated} of its {rows} indicator rows repeat an earlier row cell for cell")
            suites.append("fact_indicator_value")
        what = "; ".join(parts) + ": is the report's text in the file twice? fix the file"
        verdicts[key] = Verdict(suites, ["report_text_once()"], what)
    return verdicts


def _staged_files(stage_dir: Path, what: str, keys: Sequence[str] | None) -> list[Path]:
    if keys is None:
        return sorted(p for p in (stage_dir / what).glob("*.parquet") if not p.name.startswith("_"))
    return [p for p in (stage_dir / what / f"{k}.parquet" for k in sorted(keys)) if p.is_file()]


def _sql(name: str) -> str:
    return (HOLDBACK_SQL / f"{name}.sql").read_text(encoding="utf-8")


# --- taking reports out of a build, putting their published versions back ---------------------


# In the staging folder: the reports this build held back, written before the folder is changed, so a
# retried load step (a transient failure) holds back the same ones and names them again.
HELD_STATE = "held_back.json"


@dataclass
class Restaging:
    """What the hold-backs of one build did to its staging folder, across rounds."""

    held: list[HeldBack] = field(default_factory=list)
    restored: set[str] = field(default_factory=set)  # published versions put back
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # every report held back, by key
    names: dict[str, str] = field(default_factory=dict)  # their file names

    @property
    def keys(self) -> set[str]:
        return {h.report_key for h in self.held}

    @classmethod
    def saved(cls, stage_dir: Path) -> Restaging:
        """What an earlier attempt of this build held back (nothing when it held back none)."""
        path = stage_dir / HELD_STATE
        if not path.exists():
            return cls()
        items = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            verdicts={i["report_key"]: Verdict(list(i["suites"]), list(i["checks"]), str(i["what"])) for i in items},
            names={i["report_key"]: str(i["report_file"]) for i in items},
        )

    def save(self, stage_dir: Path) -> None:
        items = [{"report_key": k, "report_file": self.names[k], **asdict(v)} for k, v in self.verdicts.items()]
        path = stage_dir / HELD_STATE
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def hold_back(
    stage_dir: Path,
    verdicts: Mapping[str, Verdict],
    warehouse: Path,
    reports_cache: Path | None,
    restaging: Restaging,
) -> list[HeldBack]:
    """Take the reports of `verdicts` out of the staging folder (reports.parquet and their staged files)
    and put back the published version of each (same file name or same content) whose cached result is
    there; gives what was held back."""
    reports_path = stage_dir / "reports.parquet"
    staged = pl.read_parquet(reports_path)
    keys = list(verdicts)
    staged_names = staged.filter(pl.col("report_key").is_in(keys)).select("report_key", "report_file").iter_rows()
    restaging.names.update({k: restaging.names.get(k, k) for k in keys} | dict(staged_names))
    restaging.verdicts.update(verdicts)
    restaging.save(stage_dir)  # before the folder changes
    kept = staged.filter(~pl.col("report_key").is_in(keys))
    for key in keys:
        for what in STAGED:
            (stage_dir / what / f"{key}.parquet").unlink(missing_ok=True)
    taken = set(kept["report_key"]) | set(kept["report_file"])
    staged_results = dict(kept.select("report_key", "cache_key").iter_rows())
    back: list[dict] = []
    held = []
    for key in keys:
        name = restaging.names[key]
        item = HeldBack(key, name, verdicts[key])
        for row in _previous_versions(warehouse, [key], [name]):
            if staged_results.get(row["report_key"]) == row["cache_key"]:  # put back by an earlier attempt
                item.previous = row["report_file"]
                continue
            if row["report_key"] in taken or row["report_file"] in taken or row["report_key"] in restaging.restored:
                continue
            if reports_cache is not None and _restage(stage_dir, reports_cache, row):
                back.append(row)
                taken |= {row["report_key"], row["report_file"]}
                restaging.restored.add(row["report_key"])
                item.previous = row["report_file"]
            else:
                item.previous_lost = item.previous is None
        held.append(item)
        log.info("%s %s", name, item.reason)
    restaged = pl.concat([kept, pl.DataFrame(back, schema=staged.schema)]) if back else kept
    tmp = reports_path.with_name(f"{reports_path.name}.tmp{os.getpid()}")
    restaged.write_parquet(tmp)
    os.replace(tmp, reports_path)
    restaging.held += held
    return held


def _previous_versions(warehouse: Path, keys: list[str], files: list[str]) -> list[dict]:
    if not warehouse.is_file():
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cursor = con.execute(_sql("previous_versions"), [keys, files])
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:  # locked or damaged: nothing to put back (the gate names what would go)
        log.info("published versions not read (%s)", str(exc).splitlines()[0][:120])
        return []


def _restage(stage_dir: Path, reports_cache: Path, row: Mapping) -> bool:
    """Put a published version's cached result into the staging folder, each file's seal checked first
    (the staging folder gets the checked bytes, never a link); False when it is not all there or fails."""
    key = cache_key(reports_cache.parent)
    checked = {}
    for what in STAGED:
        try:
            checked[what] = read_sealed(reports_cache / f"{row['cache_key']}.{what}.parquet", key)
        except FileNotFoundError:
            if what in NEEDED:
                return False
        except (SealBroken, OSError) as exc:
            log.warning("cached %s of %s failed its check (%s); not put back", what, row["report_file"], exc)
            return False
    for what, data in checked.items():
        (stage_dir / what / f"{row['report_key']}.parquet").write_bytes(data)
    return True


# --- what the build records about them ---------------------------------------------------------


def held_outcomes(held: Sequence[HeldBack]) -> list[ExpectationOutcome]:
    """One warning per suite with held-back reports, for validation_results and the Dagster asset checks."""
    by_suite: dict[str, list[HeldBack]] = {}
    for h in held:
        for suite in h.verdict.suites:
            by_suite.setdefault(suite, []).append(h)
    return [
        ExpectationOutcome(
            "reports_held_back",
            None,
            False,
            len(items),
            len(items),
            False,
            suite=suite,
            detail="reports_held_back()",
            why="a report whose own rows fail a blocking check is left out, its published version kept, "
            "and every other report publishes",
            sample=[
                {"report_file": h.report_file, "checks": ", ".join(h.verdict.checks), "reason": h.reason}
                for h in items[:SAMPLE_ROWS]
            ],
            observed=f"{len(items)} held back: " + "; ".join(f"{h.report_file} ({h.reason})" for h in items[:SHOWN]),
        )
        for suite, items in sorted(by_suite.items())
    ]


LOADED_FIGURES_SQL = """
select
    (select count(*) from dim_report) as reports_loaded,
    (select count(*) from fact_indicator_value) as rows_loaded,
    (select count(*) from fact_indicator_value where quality_flag is not null) as rows_flagged,
    (select count(*) from quarantine) as rows_quarantined
"""


def loaded_figures(candidate: Path) -> dict[str, int]:
    """The summary's counts of what the new warehouse holds, once reports were held back."""
    with duckdb.connect(str(candidate), read_only=True) as con:
        cursor = con.execute(LOADED_FIGURES_SQL)
        columns = [d[0] for d in cursor.description]
        return dict(zip(columns, (int(v) for v in cursor.fetchone()), strict=True))
