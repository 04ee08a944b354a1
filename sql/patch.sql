-- Bring a copy of the previous warehouse up to date with one build's staged files, report by report
-- (after sql/staged.sql; the rows of new and changed reports follow in sql/reports.sql and
-- sql/facts.sql). pipeline/warehouse/load.py copies the published file and runs this on the copy when the same code
-- built it: temp tables gone(report_key) (previous reports that changed or left) and
-- added(report_key) (new or changed reports) are filled by pipeline/warehouse/load.py. What depends on every report
-- (dim_indicator, the unit a row takes from its indicator, target_attainment) is derived again, so
-- the result equals a file loaded whole from the same staged files (tests/test_incremental.py).

CREATE TEMP TABLE units_before AS SELECT indicator_key, unit FROM dim_indicator;

-- A row that prints no unit takes its indicator's: when that unit changed, the indicator's rows of
-- unchanged reports are loaded again too.
CREATE TEMP TABLE unit_changed AS
SELECT n.indicator_key FROM indicators_now n JOIN units_before b USING (indicator_key)
WHERE n.unit IS DISTINCT FROM b.unit;

CREATE TEMP TABLE reloaded AS
SELECT report_key, row_no FROM fact_indicator_value
WHERE report_key IN (SELECT report_key FROM gone)
   OR indicator_key IN (SELECT indicator_key FROM unit_changed);

-- target_attainment is derived series by series (indicator, council, unit): those of the rows removed
-- or loaded again here, of the rows loaded, and of indicators whose catalog row changes are derived
-- again (sql/touched_series.sql); the others' rows stay as they are.
CREATE TEMP TABLE series_before AS
SELECT DISTINCT indicator_key, district_code, org_unit_key FROM fact_indicator_value
WHERE (report_key, row_no) IN (SELECT (report_key, row_no) FROM reloaded);
CREATE TEMP TABLE indicators_before AS SELECT * FROM dim_indicator;

DELETE FROM fact_observation WHERE (report_key, row_no) IN (SELECT (report_key, row_no) FROM reloaded);
DELETE FROM fact_goal_assessment WHERE report_key IN (SELECT report_key FROM gone);
DELETE FROM dim_goal WHERE report_key IN (SELECT report_key FROM gone);
DELETE FROM quarantine
WHERE report_file IN (SELECT report_file FROM dim_report WHERE report_key IN (SELECT report_key FROM gone));
DELETE FROM fact_indicator_value WHERE (report_key, row_no) IN (SELECT (report_key, row_no) FROM reloaded);
DELETE FROM dim_report WHERE report_key IN (SELECT report_key FROM gone);

INSERT INTO dim_indicator
SELECT * FROM indicators_now WHERE indicator_key NOT IN (SELECT indicator_key FROM dim_indicator)
ORDER BY indicator_key;

UPDATE dim_indicator SET
    indicator = n.indicator, unit = n.unit, by_gender = n.by_gender, better = n.better,
    catalog_status = n.catalog_status, proposed_key = n.proposed_key, proposed_score = n.proposed_score,
    name_variants = n.name_variants
FROM indicators_now n
WHERE dim_indicator.indicator_key = n.indicator_key
  AND (dim_indicator.indicator, dim_indicator.unit, dim_indicator.by_gender, dim_indicator.better,
       dim_indicator.catalog_status, dim_indicator.proposed_key, dim_indicator.proposed_score,
       dim_indicator.name_variants)
      IS DISTINCT FROM
      (n.indicator, n.unit, n.by_gender, n.better, n.catalog_status, n.proposed_key, n.proposed_score,
       n.name_variants);

-- the facts of new and changed reports, and of unchanged ones whose indicator's unit changed, read
-- from those reports' staged files only (opening every report's file costs time per report)
SET VARIABLE loading_files = list_concat([{stage} || '/valid/_empty.parquet'], coalesce((
    SELECT list({stage} || '/valid/' || report_key || '.parquet' ORDER BY report_key)
    FROM (SELECT report_key FROM added
          UNION SELECT report_key FROM reloaded WHERE report_key NOT IN (SELECT report_key FROM gone))
), []));
CREATE TEMP VIEW loading_facts AS
SELECT * FROM read_parquet(getvariable('loading_files'), union_by_name = true);

CREATE TEMP TABLE loaded AS
SELECT report_id AS report_key, row_no FROM loading_facts
WHERE report_id IN (SELECT report_key FROM added) OR indicator_key IN (SELECT indicator_key FROM unit_changed);

DELETE FROM dim_indicator WHERE indicator_key NOT IN (SELECT indicator_key FROM indicators_now);
DELETE FROM dim_org_unit WHERE org_unit_key NOT IN (SELECT org_unit_key FROM dim_report);
DELETE FROM dim_period WHERE period_key NOT IN (SELECT period_key FROM dim_report);

DELETE FROM load_errors;
DELETE FROM build_summary;
DELETE FROM validation_results;
DELETE FROM build_state
WHERE name NOT LIKE 'report %' OR name IN (SELECT 'report ' || report_key FROM gone);
