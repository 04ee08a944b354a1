-- The frame the dim_report suite checks: one row per loaded report with its links, how many facts
-- and quarantined rows it gave, whether its council existed in its year, and the share of its
-- Period cells that name the report year or the year before.
with facts as (
    select report_key, count(*) as fact_rows from fact_indicator_value group by report_key
),
quarantined as (
    select report_file, count(*) as quarantined_rows from quarantine group by report_file
),
periods as (
    select report_key,
           avg(case when period_year_lag in (0, 1) then 1.0 else 0.0 end)
               filter (where period_year is not null) as period_year_share
    from fact_periods group by report_key
)
select
    r.report_key, r.report_file, r.content_hash, r.source_kind, r.report_type, r.year, r.tertial,
    r.district_code, r.org_unit_key, r.period_key,
    r.district_code || '/' || coalesce(r.org_unit_key, '') || '/' || r.period_key as report_scope,
    d.district_code is not null as has_district,
    p.period_key is not null as has_period,
    r.org_unit_key is null or o.org_unit_key is not null as has_org_unit,
    d.district_code is not null and r.year >= d.valid_from and r.year <= coalesce(d.valid_to, r.year)
        as district_existed,
    coalesce(f.fact_rows, 0) as fact_rows,
    coalesce(q.quarantined_rows, 0) as quarantined_rows,
    coalesce(q.quarantined_rows, 0) / (coalesce(f.fact_rows, 0) + coalesce(q.quarantined_rows, 0) + 1e-9)
        as quarantined_share,
    pe.period_year_share
from dim_report r
left join dim_district d on d.district_code = r.district_code
left join dim_period p on p.period_key = r.period_key
left join dim_org_unit o on o.org_unit_key = r.org_unit_key
left join facts f on f.report_key = r.report_key
left join quarantined q on q.report_file = r.report_file
left join periods pe on pe.report_key = r.report_key
order by r.report_file
