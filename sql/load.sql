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
with reports as (
    select distinct report_type, year, tertial from read_parquet({stage} || '/reports.parquet')
),
keyed as (
    select
        year || '-' || case report_type
            when 'tertialrapport_1' then 'T1' when 'tertialrapport_2' then 'T2'
            when 'verksamhetsberattelse' then 'VB' else 'VP' end as period_key,
        report_type, year, tertial,
        case report_type
            when 'tertialrapport_1' then 'Tertialrapport 1 ' || year
            when 'tertialrapport_2' then 'Tertialrapport 2 ' || year
            when 'verksamhetsberattelse' then 'Verksamhetsberättelse ' || year
            else 'Verksamhetsplan ' || year end as label,
        make_date(year, 1, 1) as start_date,
        case report_type
            when 'tertialrapport_1' then make_date(year, 4, 30)
            when 'tertialrapport_2' then make_date(year, 8, 31)
            else make_date(year, 12, 31) end as end_date
    from reports
)
select * from keyed order by period_key;

INSERT INTO dim_report
SELECT
    report_key, report_file, report_key, source_kind, report_type, year, tertial, district_code,
    CASE WHEN org_unit IS NOT NULL THEN district_code || '/' || org_unit END,
    year || '-' || CASE report_type
        WHEN 'tertialrapport_1' THEN 'T1' WHEN 'tertialrapport_2' THEN 'T2'
        WHEN 'verksamhetsberattelse' THEN 'VB' ELSE 'VP' END,
    metadata_source
FROM read_parquet({stage} || '/reports.parquet')
ORDER BY report_file;

INSERT INTO dim_indicator
with facts as (
    select * from read_parquet({stage} || '/valid/*.parquet', union_by_name = true)
)
select
    md5(lower(indicator)) as indicator_key,
    min(indicator) as indicator,
    mode(unit) as unit,
    bool_or(by_gender or outcome_men is not null or outcome_women is not null) as by_gender
from facts
group by md5(lower(indicator))
order by indicator_key;

INSERT INTO fact_indicator_value
with facts as (
    select * from read_parquet({stage} || '/valid/*.parquet', union_by_name = true)
)
select
    f.report_id, f.row_no, md5(lower(f.indicator)), r.district_code, r.org_unit_key, r.period_key,
    f.table_no, f.goal_ref, f.indicator_as_printed, f.unit,
    f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast, f.target, f.city_target,
    f.outcome_text, f.outcome_men_text, f.outcome_women_text, f.previous_outcome_text, f.forecast_text,
    f.target_text, f.city_target_text,
    f.period, f.previous_label, f.comment, f.source_page, f.source_line, f.quality_flag, f.raw_text
from facts f
join dim_report r on r.report_key = f.report_id
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
