-- Every loaded report per district (and unit), newest first, with its goal assessments and flagged and
-- quarantined rows. The overview reads the newest report with outcomes for each district.
with assessments as (
    select
        report_file,
        count(*) filter (where assessment = 'helt') as goals_met,
        count(*) filter (where assessment = 'delvis') as goals_partly_met,
        count(*) filter (where assessment = 'inte') as goals_not_met
    from goal_assessments
    group by report_file
),
facts as (
    select
        report_key, count(*) as rows_loaded, count(*) filter (where quality_flag is not null) as rows_flagged
    from fact_indicator_value
    group by report_key
),
quarantined as (
    select report_file, count(*) as rows_quarantined from quarantine group by report_file
)
select
    d.district, o.org_unit, r.report_file, r.report_type, r.year, r.tertial, p.label as report,
    p.start_date, p.end_date, coalesce(f.rows_loaded, 0) as rows_loaded, coalesce(f.rows_flagged, 0) as rows_flagged,
    coalesce(q.rows_quarantined, 0) as rows_quarantined, coalesce(a.goals_met, 0) as goals_met,
    coalesce(a.goals_partly_met, 0) as goals_partly_met, coalesce(a.goals_not_met, 0) as goals_not_met
from dim_report r
join dim_period p on p.period_key = r.period_key
join dim_district d on d.district_code = r.district_code
left join dim_org_unit o on o.org_unit_key = r.org_unit_key
left join facts f on f.report_key = r.report_key
left join quarantined q on q.report_file = r.report_file
left join assessments a on a.report_file = r.report_file
order by d.district, o.org_unit nulls first, p.end_date desc, r.report_file desc;
