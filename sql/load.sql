-- Fill a new star schema from the staged Parquet files of one build (after sql/staged.sql; each
-- report's rows follow in sql/reports.sql and sql/facts.sql). {stage} is replaced by pipeline/warehouse/load.py with the
-- quoted staging folder; nothing here comes from a report.

INSERT INTO dim_district
SELECT district_code, municipality, district, valid_from, valid_to, replaced_by
FROM read_csv({districts_csv}, header = true, all_varchar = false,
              columns = {'district_code': 'VARCHAR', 'municipality': 'VARCHAR', 'district': 'VARCHAR',
                         'valid_from': 'INTEGER', 'valid_to': 'INTEGER', 'replaced_by': 'VARCHAR',
                         'name_variants': 'VARCHAR'})
ORDER BY district_code;

INSERT INTO dim_indicator SELECT * FROM indicators_now ORDER BY indicator_key;

INSERT INTO dim_gender VALUES ('T', 'Totalt'), ('K', 'Kvinnor/flickor'), ('M', 'Män/pojkar');

-- every staged report and row is loaded
CREATE TEMP TABLE added AS SELECT report_key FROM read_parquet({stage} || '/reports.parquet');

CREATE TEMP VIEW loading_facts AS SELECT * FROM staged_facts;

CREATE TEMP TABLE loaded AS SELECT report_id AS report_key, row_no FROM loading_facts;
