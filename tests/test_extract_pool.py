"""Extraction workers are long-lived processes of their own: one takes many files, and a worker that
dies takes only its own file with it."""

import time

import pytest

import pipeline.extract as extract
from pipeline.discover import discover_reports
from pipeline.extract import ExtractSettings, extract_all, load_extracted

from .pdf_bytes import text_pdf


@pytest.fixture
def started(monkeypatch):
    """The worker processes a run starts, as they start."""
    workers = []
    real = extract._Worker.__init__

    def counting(self, memory_mb):
        real(self, memory_mb)
        workers.append(self)

    monkeypatch.setattr(extract._Worker, "__init__", counting)
    return workers


def _letters(folder, count):
    folder.mkdir()
    for i in range(count):
        (folder / f"letter{i}.pdf").write_bytes(text_pdf(f"Brev {i}", "Vi ses pa fredag."))
    return discover_reports(folder).files


def test_one_worker_extracts_every_file(tmp_path, started):
    files = _letters(tmp_path / "raw", 4)
    done, errors = extract_all(files, ExtractSettings(tmp_path / "cache", workers=1), progress=lambda _: None)
    assert not errors and len(started) == 1
    assert [load_extracted(d).lines[0].text for d in done] == [f"Brev {i}" for i in range(4)]


def test_no_more_workers_than_files(tmp_path, started):
    files = _letters(tmp_path / "raw", 1)
    done, _ = extract_all(files, ExtractSettings(tmp_path / "cache", workers=4), progress=lambda _: None)
    assert len(done) == 1 and len(started) == 1


def test_a_worker_that_dies_loses_its_file_only(tmp_path, started, monkeypatch):
    files = _letters(tmp_path / "raw", 3)
    real_give = extract._Worker.give

    def give_a_job_it_dies_of(self, file, out):
        if file.name != "letter1.pdf":
            return real_give(self, file, out)
        self.proc.stdin.write(b'{"not": "a job"}\n')  # the worker's loop fails on it and exits
        self.proc.stdin.flush()
        self.file, self.started = file, time.monotonic()
        return True

    monkeypatch.setattr(extract._Worker, "give", give_a_job_it_dies_of)
    done, errors = extract_all(files, ExtractSettings(tmp_path / "cache", workers=1), progress=lambda _: None)
    assert sorted(d.file.name for d in done) == ["letter0.pdf", "letter2.pdf"]
    assert [e.file for e in errors] == ["letter1.pdf"]
    assert errors[0].reason.startswith("the extraction ended without a result (exit status 1)")
    assert len(started) == 2  # a fresh worker took the next file
