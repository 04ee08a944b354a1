"""The offline report: static HTML pages with charts, built from the published warehouse."""
