-- The frame the dim_goal suite checks: goals with whether their report and parent goal exist, of
-- the reports the gate checks (checked_reports, as in fact_indicator_value.sql).
select
    g.report_key, g.goal_ref, g.goal_kind, g.goal_text, g.parent_ref, g.assessment,
    r.report_key is not null as has_report,
    g.parent_ref is null or p.goal_ref is not null as has_parent
from dim_goal g
left join dim_report r on r.report_key = g.report_key
left join dim_goal p on p.report_key = g.report_key and p.goal_ref = g.parent_ref
where g.report_key in (select report_key from checked_reports)
order by g.report_key, g.goal_ref
