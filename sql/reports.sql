-- Each loaded report's dimension rows, goals and quarantined rows: those of the reports in the temp
-- table added(report_key) (every staged report in a whole load, sql/load.sql; the new and changed ones
-- in a patch, sql/patch.sql). {stage} is the quoted staging folder.

-- A report of the council as a whole has the unit key district_code || '/' (its org_unit NULL), so no
-- key a BI tool joins on is ever NULL.
INSERT INTO dim_org_unit
SELECT DISTINCT district_code || '/' || coalesce(org_unit, ''), district_code, org_unit
FROM read_parquet({stage} || '/reports.parquet')
WHERE report_key IN (SELECT report_key FROM added)
  AND district_code || '/' || coalesce(org_unit, '') NOT IN (SELECT org_unit_key FROM dim_org_unit)
ORDER BY 1;

INSERT INTO dim_period
SELECT DISTINCT period_key, report_type, year, tertial, period_label, period_start, period_end
FROM read_parquet({stage} || '/reports.parquet')
WHERE report_key IN (SELECT report_key FROM added) AND period_key NOT IN (SELECT period_key FROM dim_period)
ORDER BY period_key;

INSERT INTO dim_report
SELECT
    report_key, report_file, report_key, source_kind, report_type, year, tertial, district_code,
    district_code || '/' || coalesce(org_unit, ''),
    period_key, metadata_source
FROM read_parquet({stage} || '/reports.parquet')
WHERE report_key IN (SELECT report_key FROM added)
ORDER BY report_file;

-- goals and quarantined rows from the staged files of the added reports only
SET VARIABLE added_goals = list_concat([{stage} || '/goals/_empty.parquet'], coalesce(
    (SELECT list({stage} || '/goals/' || report_key || '.parquet' ORDER BY report_key) FROM added), []));
SET VARIABLE added_quarantine = list_concat([{stage} || '/quarantine/_empty.parquet'], coalesce(
    (SELECT list({stage} || '/quarantine/' || report_key || '.parquet' ORDER BY report_key) FROM added), []));

INSERT INTO dim_goal
SELECT report_id, goal_ref, goal_kind, goal_text, parent_ref, assessment, source_page, source_line
FROM read_parquet(getvariable('added_goals'), union_by_name = true)
WHERE report_id IN (SELECT report_key FROM added)
ORDER BY report_id, source_page NULLS FIRST, source_line;

INSERT INTO quarantine
SELECT report_file, row_no, indicator_as_printed, reason, source_page, source_line, raw_text
FROM read_parquet(getvariable('added_quarantine'), union_by_name = true)
WHERE report_id IN (SELECT report_key FROM added)
ORDER BY report_file, row_no;

INSERT INTO fact_goal_assessment
SELECT g.report_key, g.goal_ref, r.district_code, r.org_unit_key, r.period_key, g.assessment
FROM dim_goal g JOIN dim_report r USING (report_key)
WHERE g.assessment IS NOT NULL AND g.report_key IN (SELECT report_key FROM added)
ORDER BY g.report_key, g.goal_ref;

-- which cached result each loaded report came from (pipeline/build/incremental.py report_key)
INSERT INTO build_state
SELECT 'report ' || report_key, cache_key FROM read_parquet({stage} || '/reports.parquet')
WHERE report_key IN (SELECT report_key FROM added)
ORDER BY 1;
