"""The Dagster graph: a change to the assets, checks or schedule shows up here as a reviewed diff."""

from pipeline.definitions import defs


def test_asset_graph():
    graph = defs.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert keys == [
        "extracted_texts",
        "normalized_indicators",
        "parsed_reports",
        "report_files",
        "report_site",
        "validated_indicators",
        "warehouse",
    ]
    upstream = {
        k.to_user_string(): sorted(p.to_user_string() for p in graph.get(k).parent_keys)
        for k in graph.get_all_asset_keys()
    }
    assert upstream["extracted_texts"] == ["report_files"]
    assert upstream["parsed_reports"] == ["extracted_texts", "report_files"]
    assert upstream["normalized_indicators"] == ["parsed_reports"]
    assert upstream["validated_indicators"] == ["normalized_indicators"]
    assert upstream["warehouse"] == ["extracted_texts", "parsed_reports", "report_files", "validated_indicators"]
    assert upstream["report_site"] == ["warehouse"]


def test_asset_checks():
    checks = sorted(k.name for k in defs.resolve_asset_graph().asset_check_keys)
    assert "indicator_facts_suite" in checks


def test_nightly_schedule():
    schedule = defs.resolve_schedule_def("nightly_build")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.job_name == "build_warehouse"
