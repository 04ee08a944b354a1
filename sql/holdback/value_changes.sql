-- Every value of the reports read again (getvariable('vc_keys'): published reports whose content, name
-- and manifest row are unchanged, read by another version of the code or a library) against the value
-- published: rows matched by report, name as printed, Period cell and their order among rows of that
-- name and cell; per measure, a value that differs, appears or goes counts as changed. Run read-only on
-- the published warehouse with the build's staged valid files (getvariable('vc_valid'))
-- (pipeline/warehouse/value_changes.py).
with new_rows as (
    select report_id as report_key, indicator_as_printed, coalesce(period, '') as period, row_no,
           outcome, outcome_men, outcome_women, previous_outcome, forecast, target, city_target
    from read_parquet(getvariable('vc_valid'), union_by_name = true)
    where list_contains(getvariable('vc_keys'), report_id)
),
old_rows as (
    select report_key, indicator_as_printed, coalesce(period, '') as period, row_no,
           outcome, outcome_men, outcome_women, previous_outcome, forecast, target, city_target
    from fact_indicator_value
    where list_contains(getvariable('vc_keys'), report_key)
),
n as (select *, row_number() over (partition by report_key, indicator_as_printed, period order by row_no) as k
      from new_rows),
o as (select *, row_number() over (partition by report_key, indicator_as_printed, period order by row_no) as k
      from old_rows),
joined as (
    select
        coalesce(o.report_key, n.report_key) as report_key,
        coalesce(o.indicator_as_printed, n.indicator_as_printed) as name,
        coalesce(o.row_no, n.row_no) as row_no,
        unnest([
            {'measure': 'outcome', 'old': o.outcome, 'new': n.outcome},
            {'measure': 'outcome_men', 'old': o.outcome_men, 'new': n.outcome_men},
            {'measure': 'outcome_women', 'old': o.outcome_women, 'new': n.outcome_women},
            {'measure': 'previous_outcome', 'old': o.previous_outcome, 'new': n.previous_outcome},
            {'measure': 'forecast', 'old': o.forecast, 'new': n.forecast},
            {'measure': 'target', 'old': o.target, 'new': n.target},
            {'measure': 'city_target', 'old': o.city_target, 'new': n.city_target}
        ]) as c
    from o
    full join n
      on n.report_key = o.report_key and n.indicator_as_printed = o.indicator_as_printed
     and n.period = o.period and n.k = o.k
)
select
    report_key,
    count(*) filter (where c.old is not null) as published,
    count(*) filter (where c.old is distinct from c.new) as changed,
    list({'name': name, 'measure': c.measure, 'old': c.old, 'new': c.new} order by row_no, c.measure)
        filter (where c.old is distinct from c.new)[1:3] as examples
from joined
group by report_key
order by report_key
