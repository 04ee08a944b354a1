-- Fill the star schema from the staged Parquet files of one build (after sql/staged.sql; the facts
-- follow in sql/facts.sql). {stage} is replaced by load.py with the quoted staging folder; nothing
-- here comes from a report.

INSERT INTO dim_district
SELECT district_code, municipality, district, valid_from, valid_to, replaced_by
FROM read_csv({districts_csv}, header = true, all_varchar = false,
              columns = {'district_code': 'VARCHAR', 'municipality': 'VARCHAR', 'district': 'VARCHAR',
                         'valid_from': 'INTEGER', 'valid_to': 'INTEGER', 'replaced_by': 'VARCHAR',
                         'name_variants': 'VARCHAR'})
ORDER BY district_code;

INSERT INTO dim_org_unit
SELECT DISTINCT district_code || '/' || org_unit, district_code, org_unit
FROM read_parquet({stage} || '/reports.parquet')
WHERE org_unit IS NOT NULL
ORDER BY 1;

INSERT INTO dim_period
SELECT DISTINCT period_key, report_type, year, tertial, period_label, period_start, period_end
FROM read_parquet({stage} || '/reports.parquet')
ORDER BY period_key;

INSERT INTO dim_report
SELECT
    report_key, report_file, report_key, source_kind, report_type, year, tertial, district_code,
    CASE WHEN org_unit IS NOT NULL THEN district_code || '/' || org_unit END,
    period_key, metadata_source
FROM read_parquet({stage} || '/reports.parquet')
ORDER BY report_file;

INSERT INTO dim_indicator SELECT * FROM indicators_now ORDER BY indicator_key;

INSERT INTO dim_gender VALUES ('T', 'Totalt'), ('K', 'Kvinnor/flickor'), ('M', 'Män/pojkar');

INSERT INTO dim_goal
SELECT report_id, goal_ref, goal_kind, goal_text, parent_ref, assessment, source_page, source_line
FROM read_parquet({stage} || '/goals/*.parquet', union_by_name = true)
WHERE report_id IN (SELECT report_key FROM dim_report)
ORDER BY report_id, source_page NULLS FIRST, source_line;

INSERT INTO quarantine
SELECT report_file, row_no, indicator_as_printed, reason, source_page, source_line, raw_text
FROM read_parquet({stage} || '/quarantine/*.parquet', union_by_name = true)
ORDER BY report_file, row_no;

INSERT INTO fact_goal_assessment
SELECT g.report_key, g.goal_ref, r.district_code, r.org_unit_key, r.period_key, g.assessment
FROM dim_goal g JOIN dim_report r USING (report_key)
WHERE g.assessment IS NOT NULL
ORDER BY g.report_key, g.goal_ref;

-- every staged row is loaded (sql/facts.sql loads what this names)
CREATE TEMP TABLE loaded AS SELECT report_id AS report_key, row_no FROM staged_facts;

-- which cached result each report was loaded from (pipeline/incremental.py report_key)
INSERT INTO build_state
SELECT 'report ' || report_key, cache_key FROM read_parquet({stage} || '/reports.parquet') ORDER BY 1;
