"""What a build reads back from disk is data, checked before use: the per-report caches, the extraction
cache (and its part files) and the record of the published warehouse are sealed with the warehouse
folder's key. An entry cut short, emptied, replaced by garbage, forged or planted (a pickle that would
run code) is derived again with one line saying so, and the build publishes what a clean build does.
A warehouse file DuckDB finds damaged is never up to date: it is kept aside and built again."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import pickle
import random
import shutil
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.cli import main, run_build
from pipeline.common import sealed
from pipeline.common.models import report_from_plain, report_to_plain
from pipeline.common.sealed import KEY_NAME, SealBroken, open_sealed, seal
from pipeline.sources.discover import sha256_of
from pipeline.sources.extract_read import ExtractionFailed, join_pdf_parts, read_pdf_part
from pipeline.warehouse.published import record_path

from .build_helpers import build_template, copy_build, query, sample_name, settings_for, table_checksums
from .conftest import SAMPLE_FILES, sample_txt
from .pdf_bytes import text_pdf

SICK_LEAVE = "select outcome from indicator_values where indicator_as_printed = 'Sjukfrånvaro' and report_file = ?"
WELFARE_SHARE = (
    "select outcome, target from indicator_values where report_file = ? "
    "and indicator_key = 'andel-barn-som-lever-i-familjer-som-har-ekonomiskt-bistand'"
)
ATTACKER_KEY = b"\x00" * 32  # whoever forges an entry has no access to the folder's key
DAMAGED_LINE = "failed its check"


# --- the sealed format and the key -------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SAMPLE_FILES))
def test_a_parsed_report_round_trips_through_plain_data(parsed_txt, key):
    report = parsed_txt(key)
    # as the cache writes it; a raw file name that is not UTF-8 keeps its escaped bytes
    report = dataclasses.replace(report, file=dataclasses.replace(report.file, path=report.file.path + "\udce9"))
    back = report_from_plain(json.loads(json.dumps(report_to_plain(report)).encode("utf-8")))
    assert back == report and back.rows and back.goals
    if key == "000":  # Hässelby-Vällingby, tertial 1 2014: the welfare share as printed
        row = next(r for r in back.rows if r.indicator_as_printed.startswith("Andel barn som lever i familjer"))
        assert (row.cells["outcome"], row.cells["target"]) == ("5,79 %", "5,5 %")


def test_a_sealed_entry_opens_only_unchanged_under_its_name_and_key():
    key = b"k" * 32
    entry = seal(b'{"outcome": "5,7 %"}', key, "a.json")
    assert open_sealed(entry, key, "a.json") == b'{"outcome": "5,7 %"}'
    forged_body = b'{"outcome": "57,0 %"}'
    for damaged, name, with_key in [
        (entry.replace(b"5,7", b"57,0"), "a.json", key),  # edited
        (entry[: len(entry) // 2], "a.json", key),  # cut short
        (b"", "a.json", key),  # emptied
        (random.Random(1).randbytes(len(entry)), "a.json", key),  # garbage
        (seal(forged_body, ATTACKER_KEY, "a.json"), "a.json", key),  # sealed with another key
        (b"sha256 " + hashlib.sha256(forged_body).hexdigest().encode() + b"\n" + forged_body, "a.json", key),
        (entry, "b.json", key),  # copied over another entry
    ]:
        with pytest.raises(SealBroken):
            open_sealed(damaged, with_key, name)


def test_the_key_is_made_once_private_to_its_owner_beside_the_cache(tmp_path):
    key = sealed.cache_key(tmp_path / ".cache")
    path = tmp_path / KEY_NAME
    assert len(key) == 32 and path.read_bytes() == key and stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed._keys.clear()  # as a new process reads it
    assert sealed.folder_key(tmp_path) == key


@pytest.mark.parametrize("how", ["others may read it", "a symbolic link", "too short"])
def test_a_key_file_that_is_not_private_is_replaced(tmp_path, caplog, how):
    path = tmp_path / KEY_NAME
    planted = b"p" * 32
    if how == "a symbolic link":
        (tmp_path / "elsewhere").write_bytes(planted)
        (tmp_path / "elsewhere").chmod(0o600)
        path.symlink_to(tmp_path / "elsewhere")
    else:
        path.write_bytes(planted if how == "others may read it" else b"p" * 8)
        path.chmod(0o644 if how == "others may read it" else 0o600)
    with caplog.at_level(logging.WARNING, logger="pipeline.common.sealed"):
        key = sealed.folder_key(tmp_path)
    assert key != planted and len(key) == 32
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == key
    assert f"key file {path}" in caplog.text and "replaced with a new key" in caplog.text


def test_a_part_of_a_pdf_read_by_another_worker_is_checked_before_it_is_read(tmp_path):
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(text_pdf("Brev", "Vi ses pa fredag."))
    key, part = b"k" * 32, tmp_path / "letter.json.p1-1.tmp1"
    read_pdf_part(str(pdf), 1, None, part, lambda _: None, 1 << 25, key)
    assert [ln.text for ln in join_pdf_parts(str(pdf), [str(part)], key)][0] == "Brev"
    part.write_bytes(part.read_bytes()[:-10])
    with pytest.raises(ExtractionFailed, match="failed its check"):
        join_pdf_parts(str(pdf), [str(part)], key)


# --- damaged cache entries heal -----------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Samples 000 (Hässelby-Vällingby T1 2014) and 004 (Östermalm VB 2013) built once; tests damage copies."""
    return build_template(tmp_path_factory.mktemp("template"), "000", "004")


@pytest.fixture
def built(template, tmp_path):
    raw, wh = copy_build(template, tmp_path)
    return raw, settings_for(raw, wh)


def _clean_tables(template) -> dict[str, str]:
    sums = table_checksums(template / "wh" / "indicators.duckdb")
    return {t: s for t, s in sums.items() if t != "load_errors"}


def _entry(settings, sample: str, kind: str) -> Path:
    """The cache file of a sample's report: a per-report entry ("valid.parquet", ...) or "extract"."""
    sha = sha256_of(Path(settings.raw_dir) / sample_name(sample))
    if kind == "extract":
        [path] = (settings.cache_dir / "extract").glob(f"{sha}.v*.json")
    else:
        [path] = (settings.cache_dir / "reports").glob(f"{sha}.*.{kind}")
    return path


def _body(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[1]


# Forged with the checksum the cache used to carry, which anyone can compute; the others with a key of
# the forger's own.
UNKEYED = {"valid.parquet"}


def _forge(path: Path, body: bytes, unkeyed: bool = False) -> None:
    """What someone without the key can do: new content with a checksum, or sealed with a key of their own."""
    if unkeyed:
        path.write_bytes(b"sha256 " + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    else:
        path.write_bytes(seal(body, ATTACKER_KEY, path.name))


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _sick_leave_57(body: bytes) -> bytes:
    """Sjukfrånvaro 57.0 where the report prints 5,7 %."""
    frame = pl.read_parquet(io.BytesIO(body))
    assert frame.filter(pl.col("indicator_as_printed") == "Sjukfrånvaro")["outcome"].to_list() == [5.7]
    forged = pl.when(pl.col("indicator_as_printed") == "Sjukfrånvaro").then(57.0).otherwise(pl.col("outcome"))
    return _parquet(frame.with_columns(forged.alias("outcome")))


FORGERIES = {
    "parsed.json": lambda body: body.replace(b'"outcome": "5,7 %"', b'"outcome": "57,0 %"'),
    "facts.parquet": _sick_leave_57,
    "valid.parquet": _sick_leave_57,
    "goals.parquet": lambda body: _parquet(pl.read_parquet(io.BytesIO(body)).with_columns(assessment=pl.lit("inte"))),
    "quarantine.parquet": lambda body: _parquet(
        pl.read_parquet(io.BytesIO(body)).clear(1).with_columns(reason=pl.lit("forged"))
    ),
    "outcomes.json": lambda body: body.replace(b'"rows": 10', b'"rows": 1000'),
    "rejected.txt": lambda body: b"no indicator rows found (not a district council report, or every table empty)",
    "extract": lambda body: body.replace(b"5,7 %", b"57,0 %"),
}


def _build_again(settings, caplog) -> tuple[dict, list]:
    """A build that reads the caches: without the warehouse it has nothing to be up to date with."""
    settings.warehouse.unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ok, summary, errors = run_build(settings)
    assert ok
    return summary, errors


def _damage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if DAMAGED_LINE in r.getMessage()]


@pytest.mark.parametrize("kind", sorted(FORGERIES))
def test_a_forged_entry_of_each_kind_is_derived_again(template, built, caplog, kind):
    raw, settings = built
    if kind == "rejected.txt":  # planted: 004 loaded, so it has no such entry
        path = _entry(settings, "004", "parsed.json").with_name(
            _entry(settings, "004", "parsed.json").name.replace("parsed.json", "rejected.txt")
        )
        _forge(path, FORGERIES[kind](b""))
    else:
        path = _entry(settings, "004", kind)
        body = FORGERIES[kind](_body(path))
        assert body != _body(path)
        _forge(path, body, unkeyed=kind in UNKEYED)
    summary, errors = _build_again(settings, caplog)
    assert query(settings.warehouse, SICK_LEAVE, sample_name("004")) == [(5.7,)]
    assert summary["rows_loaded"] == 77 and summary["rows_quarantined"] == 0
    assert query(settings.warehouse, "select count(*) from goal_assessments where assessment = 'inte'") == [(2,)]
    assert {t: s for t, s in table_checksums(settings.warehouse).items() if t != "load_errors"} == _clean_tables(
        template
    )
    [line] = _damage_lines(caplog)
    assert sample_name("004") in line and line.endswith("again")
    if kind == "extract":
        assert line.startswith(f"cache entry {path.name} of {sample_name('004')} failed its check (MAC mismatch)")
    else:
        why = "no MAC header" if kind in UNKEYED else "MAC mismatch"
        assert line == f"cache entry {kind} of {sample_name('004')} failed its check ({why}); derived again"
    # derived again, whole: the next build takes it from the cache
    summary, _ = _build_again(settings, caplog)
    assert summary["reports_from_cache"] == 2 and summary["validations_from_cache"] == 2 and not _damage_lines(caplog)


@pytest.mark.parametrize("damage", ["cut in half", "emptied", "garbage"])
def test_every_cache_file_and_the_record_damaged_at_once_heal_in_one_build(template, built, caplog, damage):
    raw, settings = built
    record = record_path(settings.warehouse)
    files = sorted(p for p in settings.cache_dir.rglob("*") if p.is_file()) + [record]
    assert len(files) == 2 * 7 + 1  # per report: extraction, parsed, facts, goals, valid, quarantine, outcomes
    rng = random.Random(7)
    for path in files:
        data = path.read_bytes()
        path.write_bytes(
            {"cut in half": data[: len(data) // 2], "emptied": b"", "garbage": rng.randbytes(len(data))}[damage]
        )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ok, summary, errors = run_build(settings)  # the record fails its check: not up to date
    assert ok and not summary.get("up_to_date") and summary["files_extracted"] == 2
    assert query(settings.warehouse, SICK_LEAVE, sample_name("004")) == [(5.7,)]
    assert query(settings.warehouse, WELFARE_SHARE, sample_name("000")) == [(5.79, 5.5)]
    assert {t: s for t, s in table_checksums(settings.warehouse).items() if t != "load_errors"} == _clean_tables(
        template
    )
    lines = _damage_lines(caplog)
    assert len(lines) == len(files)  # one line per damaged file
    assert sum(ln.startswith(f".{settings.warehouse.name}.published.json failed its check") for ln in lines) == 1
    assert [e.reason for e in errors if e.stage == "extract"] == [
        "warning: cached extraction failed its check (changed or damaged); extracted again"
    ] * 2
    ok, summary, _ = run_build(settings)
    assert ok and summary["up_to_date"] == 1  # the record was written again


class _Planted:
    """A pickle that creates a file when it is unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_planted_under_a_cache_name_is_never_run(template, built, caplog, tmp_path):
    raw, settings = built
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Planted(marker))
    parsed = _entry(settings, "004", "parsed.json")
    stem = parsed.name.removesuffix("parsed.json")
    planted = [parsed.with_name(stem + kind) for kind in ("parsed.json", "outcomes.json", "parsed.pkl", "outcomes.pkl")]
    planted += [_entry(settings, "004", "extract"), record_path(settings.warehouse)]
    for path in planted:
        path.write_bytes(payload)
    goals = _entry(settings, "004", "goals.parquet")  # and a folder where an entry should be
    goals.unlink()
    (goals / "x").mkdir(parents=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ok, summary, _ = run_build(settings)
    assert ok and not marker.exists()
    assert query(settings.warehouse, SICK_LEAVE, sample_name("004")) == [(5.7,)] and summary["rows_loaded"] == 77
    assert len(_damage_lines(caplog)) == 5  # parsed, outcomes, goals, the extraction, the record; *.pkl never read
    assert goals.is_file()
    pickle.loads(payload)  # the payload is live: unpickled, it runs
    assert marker.exists()


def test_a_forged_record_does_not_turn_off_the_row_count_gate(built, capsys, caplog):
    """The record says sample 000 had 15 rows; the raw folder's 000 was cut to 15 of its 67."""
    raw, settings = built
    wh, record = settings.warehouse, record_path(settings.warehouse)
    body = json.loads(_body(record))
    [entry] = [r for r in body["reports"] if r["report_file"] == sample_name("000")]
    assert entry["rows_before"] == 67
    entry["rows_before"] = 15
    forged = json.dumps(body, ensure_ascii=False).encode("utf-8")
    old_format = {**body, "sha256": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()}
    path = raw / sample_name("000")
    path.write_bytes(path.read_bytes()[:30_000])  # the first third: 15 of its 67 rows
    for content in (seal(forged, ATTACKER_KEY, record.name), json.dumps(old_format).encode()):
        record.write_bytes(content)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            code = main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"])
        assert code == 1
        assert "row_ratio, min_value=0.8): 1 of 2 rows unexpected" in capsys.readouterr().err
        assert [ln for ln in _damage_lines(caplog) if ln.startswith(f"{record.name} failed its check")]
    assert query(wh, "select count(*) from fact_indicator_value") == [(77,)]  # the previous warehouse stays


# --- a damaged warehouse file ---------------------------------------------------------------------


def _flip_fact_block(wh: Path) -> None:
    """16 bytes flipped inside the fact table's data, the file's modification time kept."""
    with duckdb.connect(str(wh), read_only=True) as con:
        block_size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
        (block,) = con.execute(
            "select min(block_id) from pragma_storage_info('fact_indicator_value') where block_id >= 0"
        ).fetchone()
    offset = 3 * 4096 + block * block_size + 100  # after the file's headers, inside the block
    before = wh.stat()
    with open(wh, "r+b") as fh:
        fh.seek(offset)
        data = fh.read(16)
        fh.seek(offset)
        fh.write(bytes(b ^ 0xFF for b in data))
    os.utime(wh, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(duckdb.Error, match="Corrupt database file"):
        query(wh, "select sum(outcome) from indicator_values")


@pytest.mark.parametrize("raw_changed", [False, True])
def test_a_damaged_warehouse_is_never_up_to_date_it_is_kept_aside_and_built_again(built, capsys, caplog, raw_changed):
    raw, settings = built
    wh = settings.warehouse
    _flip_fact_block(wh)
    if raw_changed:  # a build that would otherwise patch a copy of the published file
        shutil.copy(sample_txt("002"), raw)
    with caplog.at_level(logging.INFO):
        code = main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"])
    assert code == 0 and "warehouse up to date" not in capsys.readouterr().out
    [kept] = [p for p in wh.parent.iterdir() if p.name.startswith(f"{wh.name}.corrupt-")]
    [line] = [r.getMessage() for r in caplog.records if "is damaged" in r.getMessage()]
    assert line.startswith(f"{wh.name} is damaged (Corrupt database file: computed checksum")
    assert line.endswith(f"kept as {kept.name}, built again from the raw folder")
    assert "warehouse patched" not in caplog.text
    assert query(wh, "select count(*) from dim_report") == [(3 if raw_changed else 2,)]
    assert query(wh, WELFARE_SHARE, sample_name("000")) == [(5.79, 5.5)]
    assert query(wh, SICK_LEAVE, sample_name("004")) == [(5.7,)]
    with pytest.raises(duckdb.Error, match="Corrupt database file"):  # the damaged file, kept as it was
        query(kept, "select sum(outcome) from indicator_values")
    assert main(["build", "--raw", str(raw), "--warehouse", str(wh), "--workers", "1"]) == 0
    assert "warehouse up to date" in capsys.readouterr().out
