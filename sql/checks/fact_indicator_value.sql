-- The frame the fact_indicator_value suite checks: one row per fact with its keys, measures, unit,
-- the smallest and largest measure of a percent or count row, whether each key finds its dimension
-- row, and its Period cell read against the report. Only the rows of the reports the gate checks
-- (checked_reports, registered by pipeline/warehouse/gates.py: every report, or the new and changed ones when
-- the build patched the published file, whose other rows were checked when it was built).
select
    f.report_key, r.report_file, f.row_no, f.indicator_key, f.district_code, f.period_key, f.org_unit_key,
    f.unit, f.source_line, f.raw_text, f.period,
    f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast, f.target, f.city_target,
    case when f.unit = '%' then least(f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast,
                                      f.target, f.city_target) end as percent_min,
    case when f.unit = '%' then greatest(f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast,
                                         f.target, f.city_target) end as percent_max,
    case when f.unit = 'st' then least(f.outcome, f.outcome_men, f.outcome_women, f.previous_outcome, f.forecast,
                                       f.target, f.city_target) end as count_min,
    r.report_key is not null as has_report,
    i.indicator_key is not null as has_indicator,
    d.district_code is not null as has_district,
    p.period_key is not null as has_period,
    f.org_unit_key is null or o.org_unit_key is not null as has_org_unit,
    r.district_code is not distinct from f.district_code and r.period_key is not distinct from f.period_key
        as same_as_report,
    fp.period_year_lag,
    fp.period_tertial_ok
from fact_indicator_value f
left join dim_report r on r.report_key = f.report_key
left join dim_indicator i on i.indicator_key = f.indicator_key
left join dim_district d on d.district_code = f.district_code
left join dim_period p on p.period_key = f.period_key
left join dim_org_unit o on o.org_unit_key = f.org_unit_key
left join fact_periods fp on fp.report_key = f.report_key and fp.row_no = f.row_no
where f.report_key in (select report_key from checked_reports)
order by f.report_key, f.row_no
