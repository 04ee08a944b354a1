"""Caches shared through a store: an S3-compatible server (moto's, started here on the loopback address)
holds what one build extracted and derived, and a build on a new, empty folder reads it all back without
extracting again; what fails its check there is derived again, with one line saying so."""

import json
import logging
import secrets
import shutil
import socket
import urllib.request

import boto3
import pytest
from moto.server import ThreadedMotoServer

from pipeline.cli import run_build
from pipeline.common.storage import LocalStore, open_store
from pipeline.sources import extract

from .build_helpers import query, settings_for, table_checksums
from .conftest import RAW, sample_txt
from .test_partitions import WELFARE_2014, no_extraction

BUCKET = "indicator-cache"
PDF_004 = "004_05871d331dd0cb08.pdf"  # Östermalm, Verksamhetsberättelse 2013: 13 pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3(monkeypatch):
    """An S3 server on 127.0.0.1 with an empty bucket: (cache URL, storage options as JSON, client)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    endpoint = f"http://127.0.0.1:{port}"
    # moto keeps its buckets per process, not per server: each test starts from none
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield f"s3://{BUCKET}/cache", json.dumps({"endpoint_url": endpoint}), client
    finally:
        server.stop()


@pytest.fixture
def raw(tmp_path):
    """A PDF (extracted by a worker) and a text report (read in the build)."""
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(RAW / PDF_004, folder)
    shutil.copy(sample_txt("000"), folder)
    return folder


def _objects(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_build_on_an_empty_folder_reads_everything_back_from_s3(s3, raw, tmp_path, monkeypatch):
    url, options, client = s3
    monkeypatch.setenv("INDICATORS_CACHE_KEY", secrets.token_hex(32))
    first = settings_for(raw, tmp_path / "one" / "indicators.duckdb", cache_url=url, cache_options=options)
    ok, summary, _ = run_build(first)
    assert ok and summary["files_extracted"] == 2
    stored = _objects(client)
    assert len([k for k in stored if k.startswith("cache/extract/")]) == 2
    assert len([k for k in stored if k.startswith("cache/reports/") and k.endswith(".valid.parquet")]) == 2
    body = client.get_object(Bucket=BUCKET, Key=stored[0])["Body"].read()
    assert body.startswith(b"hmac-sha256 ")  # sealed, as on disk: plain data with its MAC, never a pickle

    monkeypatch.setattr(extract, "_Worker", no_extraction)  # nothing may be extracted again
    monkeypatch.setattr(extract, "read_txt", no_extraction)
    second = settings_for(raw, tmp_path / "two" / "indicators.duckdb", cache_url=url, cache_options=options)
    ok, summary, _ = run_build(second)
    assert ok
    assert (summary["files_extracted"], summary["files_from_cache"], summary["reports_from_cache"]) == (0, 2, 2)
    assert table_checksums(second.warehouse) == table_checksums(first.warehouse)
    cell = "select outcome, target from indicator_values where indicator_as_printed = ? and year = 2013"
    assert query(second.warehouse, cell, WELFARE_2014) == [(0.45, 0.5)]


def test_an_entry_that_fails_its_check_in_the_store_is_derived_again(s3, raw, tmp_path, monkeypatch, caplog):
    url, options, client = s3
    monkeypatch.setenv("INDICATORS_CACHE_KEY", secrets.token_hex(32))
    first = settings_for(raw, tmp_path / "one" / "indicators.duckdb", cache_url=url, cache_options=options)
    assert run_build(first)[0]
    facts = next(k for k in _objects(client) if k.endswith(".facts.parquet"))
    sealed = client.get_object(Bucket=BUCKET, Key=facts)["Body"].read()
    client.put_object(Bucket=BUCKET, Key=facts, Body=sealed[:-20] + b"\0" * 20)  # changed in the store
    second = settings_for(raw, tmp_path / "two" / "indicators.duckdb", cache_url=url, cache_options=options)
    with caplog.at_level(logging.WARNING):
        ok, summary, _ = run_build(second)
    assert ok and summary["files_extracted"] == 0
    lines = [r.getMessage() for r in caplog.records if "failed its check" in r.getMessage()]
    assert len(lines) == 1 and facts.removeprefix("cache/") in lines[0] and url in lines[0]
    assert table_checksums(second.warehouse) == table_checksums(first.warehouse)
    assert client.get_object(Bucket=BUCKET, Key=facts)["Body"].read() == sealed  # derived again and put back


def test_a_shared_cache_without_the_shared_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("INDICATORS_CACHE_KEY", raising=False)
    settings = settings_for(tmp_path, tmp_path / "wh" / "indicators.duckdb", cache_url=str(tmp_path / "store"))
    with pytest.raises(ValueError, match="needs the secret INDICATORS_CACHE_KEY"):
        settings.open_cache()
    monkeypatch.setenv("INDICATORS_CACHE_KEY", "abc")
    with pytest.raises(ValueError, match="must be 64 hex digits"):
        settings.open_cache()


def test_a_folder_store_writes_whole_entries(tmp_path):
    store = open_store(f"file://{tmp_path / 'store'}")
    assert isinstance(store, LocalStore)
    assert store.get("reports/x.json") is None
    store.put("reports/x.json", b"sealed bytes")
    assert store.get("reports/x.json") == b"sealed bytes"
    assert [p.name for p in (tmp_path / "store" / "reports").iterdir()] == ["x.json"]  # no temporary left
    assert store.get_many(["reports/x.json", "reports/y.json"]) == {"reports/x.json": b"sealed bytes"}
