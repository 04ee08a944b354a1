-- The facts of one build, after sql/load.sql (a whole file) or sql/patch.sql (a copy of the previous
-- one): every staged row named in the temp table loaded(report_key, row_no), read from the temp view
-- loading_facts (the staged files of those reports), and its long form.

INSERT INTO fact_indicator_value
select
    f.report_id, f.row_no, f.indicator_key, r.district_code, r.org_unit_key, r.period_key,
    -- a row whose cells print no unit takes its indicator's unit from the rows that do print one
    f.table_no, f.goal_ref, f.indicator_as_printed, coalesce(f.unit, i.unit), f.unit_as_printed,
    f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast, f.target, f.city_target,
    f.outcome_text, f.outcome_men_text, f.outcome_women_text, f.previous_outcome_text, f.forecast_text,
    f.target_text, f.city_target_text,
    f.period, f.period_kind, f.period_start, f.period_end, f.frequency, f.previous_label, f.previous_year,
    f.comment, f.source_page, f.source_line,
    -- the unit taken from the indicator is a guess the row shows
    case when f.unit is null and i.unit is not null
         then coalesce(f.quality_flag || ',', '') || 'unit_from_indicator' else f.quality_flag end,
    f.raw_text
from loading_facts f
join dim_report r on r.report_key = f.report_id
join dim_indicator i on i.indicator_key = f.indicator_key
where (f.report_id, f.row_no) in (select (report_key, row_no) from loaded)
order by f.report_id, f.row_no;

INSERT INTO fact_observation
with facts as (
    select f.*, p.start_date as report_start, p.end_date as report_end
    from fact_indicator_value f join dim_period p using (period_key)
    where (f.report_key, f.row_no) in (select (report_key, row_no) from loaded)
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
        -- an outcome refers to the row's Period cell (the report's own period only where the cell is
        -- empty or a plan's frequency: a cell the period grammar does not read files it under none);
        -- a previous-year outcome to that whole year; forecasts and targets to the report's year
        case when measure_column = 'previous_outcome' then make_date(previous_year, 1, 1)
             when measure_column like 'outcome%' then
                 case when period_start is not null then period_start
                      when period is null or period_kind = 'frequency' then report_start end
             else make_date(year(report_end), 1, 1) end as ref_start,
        case when measure_column = 'previous_outcome' then make_date(previous_year, 12, 31)
             when measure_column like 'outcome%' then
                 case when period_start is not null then period_end
                      when period is null or period_kind = 'frequency' then report_end end
             else make_date(year(report_end), 12, 31) end as ref_end,
        case when measure_column = 'previous_outcome' then 'previous_year_column' else 'reported' end
            as value_source,
        quality_flag
    from long
)
select * from placed
where ref_start is not null
order by report_key, row_no, gender_code, "measure", value_source;
