-- The latest printed row of each indicator in each district (and unit): the goal it stood under, and
-- the newest comment printed beside it (from an earlier report when the latest row has none). Groups
-- the district pages by goal.
with facts as (
    select f.*, r.report_file, p.label as report, p.end_date as report_end
    from fact_indicator_value f
    join dim_report r using (report_key)
    join dim_period p on p.period_key = r.period_key
),
latest as (
    select * from facts
    qualify row_number() over (
        partition by indicator_key, district_code, org_unit_key
        order by report_end desc, report_file desc, (comment is not null) desc, source_page nulls first, source_line
    ) = 1
),
commented as (
    select * from facts
    where comment is not null
    qualify row_number() over (
        partition by indicator_key, district_code, org_unit_key
        order by report_end desc, report_file desc, source_page nulls first, source_line
    ) = 1
)
select
    l.indicator_key, i.indicator, d.district, o.org_unit, l.report_file, l.report, l.goal_ref, g.goal_kind,
    g.goal_text, g.assessment, parent.goal_ref as parent_goal_ref, parent.goal_text as parent_goal_text,
    l.source_page, l.source_line, l.quality_flag, l.period,
    c.comment, c.report_file as comment_file, c.report as comment_report, c.source_page as comment_page,
    c.source_line as comment_line
from latest l
join dim_indicator i using (indicator_key)
join dim_district d on d.district_code = l.district_code
left join dim_org_unit o on o.org_unit_key = l.org_unit_key
left join dim_goal g on g.report_key = l.report_key and g.goal_ref = l.goal_ref
left join dim_goal parent on parent.report_key = l.report_key and parent.goal_ref = g.parent_ref
left join commented c
    on c.indicator_key = l.indicator_key and c.district_code = l.district_code
   and c.org_unit_key is not distinct from l.org_unit_key
order by d.district, o.org_unit nulls first, l.goal_ref, l.source_page nulls first, l.source_line;
