"""Extraction workers are long-lived processes of their own: one takes many files, and a worker that
dies takes only its own file with it."""

import time
from pathlib import Path

import pytest

import pipeline.sources.extract as extract
from pipeline.sources.discover import discover_reports
from pipeline.sources.extract import ExtractSettings, extract_all, page_ranges, plan_jobs
from pipeline.sources.extract_cache import load_extracted
from pipeline.sources.extract_read import read_pdf

from .pdf_bytes import text_pdf

RAW_DIR = Path(__file__).parent.parent / "raw"


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

    def give_a_job_it_dies_of(self, job):
        if job.file.name != "letter1.pdf":
            return real_give(self, job)
        self.proc.stdin.write(b'{"not": "a job"}\n')  # the worker's loop fails on it and exits
        self.proc.stdin.flush()
        self.job, self.started = job, time.monotonic()
        return True

    monkeypatch.setattr(extract._Worker, "give", give_a_job_it_dies_of)
    done, errors = extract_all(files, ExtractSettings(tmp_path / "cache", workers=1), progress=lambda _: None)
    assert sorted(d.file.name for d in done) == ["letter0.pdf", "letter2.pdf"]
    assert [e.file for e in errors] == ["letter1.pdf"]
    assert errors[0].reason.startswith("the extraction ended without a result (exit status 1)")
    assert len(started) == 2  # a fresh worker took the next file


# --- long files shared among the workers by pages -------------------------------------------------

LONG_PDF = "000_3e9cf77e5c646f75.pdf"  # raw/: 41 pages


def _raw_files(*names):
    return [f for f in discover_reports(RAW_DIR).files if f.name in names]


def test_page_ranges_cover_every_page_once_in_order():
    ranges = page_ranges(41, 5)
    assert ranges[0][0] == 1 and ranges[-1][1] == 41
    assert all(hi + 1 == lo for (_, hi), (lo, _) in zip(ranges, ranges[1:], strict=False))
    assert {hi - lo + 1 for lo, hi in ranges} == {8, 9}


def test_a_long_file_is_split_only_when_other_workers_would_idle(tmp_path):
    (long_file,) = _raw_files(LONG_PDF)
    (job,) = plan_jobs([long_file], ExtractSettings(tmp_path, workers=2))
    assert job.split == (4, 8)  # its worker splits it into 4 parts of at least 8 pages
    (job,) = plan_jobs([long_file], ExtractSettings(tmp_path, workers=1))
    assert job.split is None
    (job,) = plan_jobs([long_file], ExtractSettings(tmp_path, workers=2, min_part_pages=0))
    assert job.split is None
    letters = _letters(tmp_path / "raw", 40)  # a run of many files has enough of them to share
    assert not any(job.split for job in plan_jobs(letters, ExtractSettings(tmp_path, workers=2)))


def test_a_file_read_in_parts_gives_the_lines_it_gives_read_whole(tmp_path, started):
    (long_file,) = _raw_files(LONG_PDF)
    cache = tmp_path / "cache"
    done, errors = extract_all([long_file], ExtractSettings(cache, workers=2), progress=lambda _: None)
    assert not errors and done[0].parts == 4 and done[0].pages == 41 and len(started) == 2
    lines = load_extracted(done[0]).lines
    assert lines == read_pdf(long_file.path)
    # a row of the second part (pages 11-20 of 41), with its page and line
    row = next(ln for ln in lines if ln.text.startswith("Andel förskollärare av antal anställda"))
    assert (row.page, row.line_no, row.text.split("\t")[1:]) == (16, 19, ["", "39 %", "", "41 %", "41 %", "2014"])
    assert [p.name for p in (cache / "extract").iterdir()] == [done[0].cache_path.name]  # no part left behind


def test_a_page_count_that_is_short_loses_no_page(tmp_path):
    """The split follows the count the document gives; the last part reads on to the real end."""
    (long_file,) = _raw_files(LONG_PDF)
    folder = tmp_path / "raw"
    folder.mkdir()
    data = Path(long_file.path).read_bytes()
    assert data.count(b"/Count 41") == 1  # the page tree's
    (folder / LONG_PDF).write_bytes(data.replace(b"/Count 41", b"/Count 16"))
    files = discover_reports(folder).files
    assert extract.pdf_page_count(files[0].path) == 16
    done, errors = extract_all(files, ExtractSettings(tmp_path / "cache", workers=2), progress=lambda _: None)
    assert not errors and done[0].parts == 2 and done[0].pages == 41
    assert load_extracted(done[0]).lines == read_pdf(long_file.path)


def test_a_part_that_fails_rejects_its_file_once_and_nothing_else(tmp_path, monkeypatch):
    (long_file,) = _raw_files(LONG_PDF)
    letters = _letters(tmp_path / "raw", 2)
    real_give = extract._Worker.give

    def give_a_part_it_dies_of(self, job):
        if job.pages != (11, 20):  # the second of four parts
            return real_give(self, job)
        self.proc.stdin.write(b'{"not": "a job"}\n')
        self.proc.stdin.flush()
        self.job, self.started = job, time.monotonic()
        return True

    monkeypatch.setattr(extract._Worker, "give", give_a_part_it_dies_of)
    cache = tmp_path / "cache"
    done, errors = extract_all([long_file, *letters], ExtractSettings(cache, workers=2), progress=lambda _: None)
    assert sorted(d.file.name for d in done) == ["letter0.pdf", "letter1.pdf"]
    assert [e.file for e in errors] == [LONG_PDF]
    assert errors[0].reason.startswith("the extraction ended without a result")
    assert sorted(p.name for p in (cache / "extract").iterdir()) == sorted(d.cache_path.name for d in done)
