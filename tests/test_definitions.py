"""The Dagster graph: a change to the assets, checks or schedule shows up here as a reviewed diff."""

import dagster as dg

from pipeline.definitions import defs
from pipeline.warehouse.relations import PUBLISHED_RELATIONS


def test_asset_graph():
    graph = defs.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    stages = [
        "extracted_texts",
        "normalized_indicators",
        "parsed_reports",
        "report_files",
        "report_results",
        "validated_indicators",
    ]
    assert keys == sorted([*stages, "warehouse", "report_site", *PUBLISHED_RELATIONS])
    upstream = {
        k.to_user_string(): sorted(p.to_user_string() for p in graph.get(k).parent_keys)
        for k in graph.get_all_asset_keys()
    }
    assert upstream["extracted_texts"] == ["report_files"]
    assert upstream["parsed_reports"] == ["extracted_texts", "report_files"]
    assert upstream["normalized_indicators"] == ["parsed_reports"]
    assert upstream["validated_indicators"] == ["normalized_indicators"]
    upstream_stages = ["extracted_texts", "parsed_reports", "report_files", "report_results", "validated_indicators"]
    assert upstream["warehouse"] == upstream_stages
    assert upstream["report_results"] == []  # one partition per report file, read from the raw folder
    # lineage reaches what BI tools read: every published table and view hangs off the warehouse
    assert all(upstream[name] == ["warehouse"] for name in PUBLISHED_RELATIONS)
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {groups[name] for name in PUBLISHED_RELATIONS} == {"warehouse_tables"}
    assert {groups[name] for name in [*stages, "warehouse"]} == {"build"}
    assert groups["report_site"] == "report"
    assert graph.get(dg.AssetKey("dim_period")).description.startswith("Report periods: tertial 1 (Jan–Apr)")
    assert upstream["report_site"] == ["warehouse"]


def test_asset_checks():
    graph = defs.resolve_asset_graph()
    checks = sorted(k.name for k in graph.asset_check_keys)
    assert "indicator_facts_suite" in checks
    assert [k.name for k in graph.asset_check_keys if not graph.get_check_spec(k).description] == []


def test_nightly_schedule():
    schedule = defs.resolve_schedule_def("nightly_build")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.job_name == "build_warehouse"


def test_readme_names_the_asset_groups_the_ui_shows():
    import re

    from tests.conftest import ROOT

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r"Assets are in (\w+) groups: (.*?)\.\n", readme, re.S)
    assert said and said.group(1) == {2: "two", 3: "three", 4: "four"}[len(groups)]
    assert set(re.findall(r"`(\w+)` \(", said.group(2))) == groups


def test_a_scheduled_run_logs_info_and_above_to_the_console():
    job = defs.resolve_job_def("build_warehouse")
    assert job.run_config == {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
