-- Fill the star schema from the staged Parquet files of one build.
-- {stage} is replaced by load.py with the quoted staging folder; nothing here comes from a report.

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

INSERT INTO dim_indicator
with facts as (
    select * from read_parquet({stage} || '/valid/*.parquet', union_by_name = true)
)
select
    indicator_key,
    min(indicator) as indicator,
    mode(unit) as unit,
    bool_or(by_gender or outcome_men is not null or outcome_women is not null) as by_gender,
    min(better) as better,
    min(catalog_status) as catalog_status,
    min(proposed_key) as proposed_key,
    max(proposed_score) as proposed_score,
    count(distinct indicator_as_printed) as name_variants
from facts
group by indicator_key
order by indicator_key;

INSERT INTO dim_gender VALUES ('T', 'Totalt'), ('K', 'Kvinnor/flickor'), ('M', 'Män/pojkar');

INSERT INTO fact_indicator_value
with facts as (
    select * from read_parquet({stage} || '/valid/*.parquet', union_by_name = true)
)
select
    f.report_id, f.row_no, f.indicator_key, r.district_code, r.org_unit_key, r.period_key,
    -- a row whose cells print no unit takes its indicator's unit from the rows that do print one
    f.table_no, f.goal_ref, f.indicator_as_printed, coalesce(f.unit, i.unit), f.unit_as_printed,
    f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast, f.target, f.city_target,
    f.outcome_text, f.outcome_men_text, f.outcome_women_text, f.previous_outcome_text, f.forecast_text,
    f.target_text, f.city_target_text,
    f.period, f.period_kind, f.period_start, f.period_end, f.frequency, f.previous_label, f.previous_year,
    f.comment, f.source_page, f.source_line, f.quality_flag, f.raw_text
from facts f
join dim_report r on r.report_key = f.report_id
join dim_indicator i on i.indicator_key = f.indicator_key
order by f.report_id, f.row_no;

INSERT INTO dim_goal
SELECT report_id, goal_ref, goal_kind, goal_text, parent_ref, assessment, source_page, source_line
FROM read_parquet({stage} || '/goals/*.parquet', union_by_name = true)
WHERE report_id IN (SELECT report_key FROM dim_report)
ORDER BY report_id, source_page NULLS FIRST, source_line;

INSERT INTO quarantine
SELECT report_file, row_no, indicator_as_printed, reason, source_page, source_line, raw_text
FROM read_parquet({stage} || '/quarantine/*.parquet', union_by_name = true)
ORDER BY report_file, row_no;

INSERT INTO fact_observation
with facts as (
    select f.*, p.start_date as report_start, p.end_date as report_end
    from fact_indicator_value f join dim_period p using (period_key)
),
long as (
    unpivot facts
    on outcome, outcome_men, outcome_women, previous_outcome, forecast, target, city_target
    into name measure_column value measure_value
),
placed as (
    select
        report_key, row_no, indicator_key, district_code, org_unit_key,
        case measure_column when 'outcome_men' then 'M' when 'outcome_women' then 'K' else 'T' end as gender_code,
        case when measure_column in ('outcome', 'outcome_men', 'outcome_women', 'previous_outcome') then 'outcome'
             else measure_column end as "measure",
        measure_value, unit,
        -- an outcome refers to the row's Period cell; a previous-year outcome to that whole year;
        -- forecasts and targets to the report's year
        case when measure_column = 'previous_outcome' then make_date(previous_year, 1, 1)
             when measure_column like 'outcome%' then coalesce(period_start, report_start)
             else make_date(year(report_end), 1, 1) end as ref_start,
        case when measure_column = 'previous_outcome' then make_date(previous_year, 12, 31)
             when measure_column like 'outcome%' then coalesce(period_end, report_end)
             else make_date(year(report_end), 12, 31) end as ref_end,
        case when measure_column = 'previous_outcome' then 'previous_year_column' else 'reported' end
            as value_source,
        quality_flag
    from long
)
select * from placed
where ref_start is not null
order by report_key, row_no, gender_code, "measure", value_source;

INSERT INTO fact_goal_assessment
SELECT g.report_key, g.goal_ref, r.district_code, r.org_unit_key, r.period_key, g.assessment
FROM dim_goal g JOIN dim_report r USING (report_key)
WHERE g.assessment IS NOT NULL
ORDER BY g.report_key, g.goal_ref;
