"""The DuckDB warehouse: validation, load, the quality gate and publishing, export, schema documentation."""
