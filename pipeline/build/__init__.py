"""One build over many reports without Dagster: each stage over every report, per-report caches, what may be skipped."""
