-- The series (indicator, council, unit) a patch changes, after sql/facts.sql: those of rows removed or
-- loaded again (series_before, sql/patch.sql), of the rows loaded now, and every series of an indicator
-- whose catalog row (name, unit, direction) is new, changed or gone. pipeline/warehouse/load.py derives the rows of
-- target_attainment again for these series only: every window and grouping behind it is per series.

CREATE TEMP TABLE indicators_changed AS
SELECT indicator_key FROM (
    SELECT * FROM indicators_before EXCEPT SELECT * FROM dim_indicator
    UNION ALL
    SELECT * FROM dim_indicator EXCEPT SELECT * FROM indicators_before
);

CREATE TEMP TABLE touched_series AS
SELECT DISTINCT indicator_key, district_code, coalesce(org_unit_key, '') AS unit_key FROM (
    SELECT indicator_key, district_code, org_unit_key FROM series_before
    UNION ALL
    SELECT indicator_key, district_code, org_unit_key FROM fact_indicator_value
    WHERE (report_key, row_no) IN (SELECT (report_key, row_no) FROM loaded)
       OR indicator_key IN (SELECT indicator_key FROM indicators_changed)
);

CREATE TEMP VIEW touched_observations AS
SELECT o.* FROM fact_observation o
JOIN touched_series t
  ON t.indicator_key = o.indicator_key AND t.district_code = o.district_code
 AND t.unit_key = coalesce(o.org_unit_key, '');
