-- Per staged report of the getvariable('repeat_goals') / getvariable('repeat_rows') files (a build's
-- goals/ and valid/ files of the reports it loads now): goal numbers printed more than once, and how
-- many of its indicator rows repeat an earlier row cell for cell (name, Period cell, every figure and
-- the comment; not the goal: an unnumbered goal's number counts on). A report whose text is in its
-- file twice gives both; its goals would break the load (one row per goal of a report) and its rows
-- would count every figure twice. Run on the staging folder before the load (pipeline/warehouse/holdback.py).
with goals as (
    select report_id, goal_ref, count(*) as times
    from read_parquet(getvariable('repeat_goals'), union_by_name = true)
    group by all
    having count(*) > 1
),
repeated_goals as (
    select report_id, count(*) as goals, list(goal_ref order by goal_ref)[1:3] as examples
    from goals group by report_id
),
rows as (
    select
        report_id, count(*) as rows,
        count(*) - count(distinct (indicator_as_printed, period, outcome_text, outcome_men_text,
                                   outcome_women_text, previous_outcome_text, forecast_text, target_text,
                                   city_target_text, comment)) as repeated
    from read_parquet(getvariable('repeat_rows'), union_by_name = true)
    group by report_id
)
select
    coalesce(g.report_id, r.report_id) as report_id,
    coalesce(g.goals, 0) as goals_repeated,
    coalesce(g.examples, []) as goal_examples,
    coalesce(r.rows, 0) as rows,
    coalesce(r.repeated, 0) as rows_repeated
from repeated_goals g
full join rows r using (report_id)
where g.goals > 0 or r.repeated * 2 >= r.rows and r.repeated > 0
order by report_id
