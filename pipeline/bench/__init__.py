"""Benchmarks: `python -m pipeline.bench` (extraction and rebuilds), `python -m pipeline.bench.report` (the report)."""
