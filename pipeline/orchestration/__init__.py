"""The Dagster wiring: settings, the stage assets, the published tables as assets, job, schedule and sensor."""
