-- The contract view: BI tools and our own checks read it. Extend it, never rename its columns.
CREATE VIEW indicator_values AS
with facts as (
    select * from fact_indicator_value
),
joined as (
    select
        r.report_file,
        r.report_type,
        d.district,
        o.org_unit,
        r.year,
        r.tertial,
        f.period,
        f.goal_ref,
        i.indicator,
        f.indicator_as_printed,
        f.unit,
        f.outcome,
        f.outcome_men,
        f.outcome_women,
        f.previous_outcome,
        f.previous_label,
        f.forecast,
        f.target,
        f.city_target,
        f.comment,
        f.source_page,
        f.source_line,
        f.quality_flag,
        -- added after the contract columns: join keys and the period as dates
        f.indicator_key,
        f.district_code,
        f.org_unit_key,
        f.period_key,
        f.period_kind,
        f.period_start,
        f.period_end,
        f.unit_as_printed,
        f.report_key,
        f.row_no
    from facts f
    join dim_report r using (report_key)
    join dim_district d on d.district_code = f.district_code
    join dim_indicator i using (indicator_key)
    left join dim_org_unit o on o.org_unit_key = f.org_unit_key
)
select * from joined
order by report_file, source_page nulls first, source_line;

-- Every value in long form, with names: one row per measure and gender of an indicator row.
CREATE VIEW indicator_observations AS
with obs as (
    select * from fact_observation
),
named as (
    select
        i.indicator_key, i.indicator, d.district, o.org_unit, obs.gender_code, obs."measure", obs.value, obs.unit,
        obs.ref_start, obs.ref_end, obs.value_source,
        r.report_file, r.report_type, r.year as report_year, r.tertial as report_tertial, p.end_date as report_end,
        f.period, f.source_page, f.source_line, obs.quality_flag, obs.district_code, obs.org_unit_key
    from obs
    join dim_indicator i using (indicator_key)
    join dim_district d using (district_code)
    left join dim_org_unit o on o.org_unit_key = obs.org_unit_key
    join dim_report r using (report_key)
    join dim_period p on p.period_key = r.period_key
    join fact_indicator_value f on f.report_key = obs.report_key and f.row_no = obs.row_no
)
select * from named;

-- The latest value per indicator, district (and unit), gender, measure and period, saying which report it
-- came from. A value printed by the report of its own period wins over the same value restated in a later
-- report's previous-year column ("Periodens utfall VB 2013"); otherwise the latest report wins, so an
-- annual report's correction replaces what the tertial reports said; a plan and an annual report of the
-- same year end on the same day: the annual report's figures supersede the plan's (what was done over
-- what was planned), never the file name; within one report, the row printed first (so the choice never
-- depends on the order rows are stored in). `revisions` counts all reports.
CREATE VIEW indicator_latest_revision AS
with ranked as (
    select
        *,
        row_number() over w as revision_rank,
        count(*) over (partition by indicator_key, district_code, org_unit_key, gender_code, "measure",
                       ref_start, ref_end) as revisions
    from indicator_observations
    window w as (
        partition by indicator_key, district_code, org_unit_key, gender_code, "measure", ref_start, ref_end
        order by (value_source = 'reported') desc, report_end desc, (report_type = 'verksamhetsplan'),
                 report_file desc, source_page nulls first, source_line
    )
)
select * exclude (revision_rank) from ranked where revision_rank = 1;

-- Time series per indicator and district with targets: one row per period the outcome refers to.
CREATE VIEW indicator_series AS
with latest as (
    select * from indicator_latest_revision
),
outcomes as (
    select
        indicator_key, indicator, district, org_unit, district_code, org_unit_key, ref_start, ref_end, unit,
        max(value) filter (where "measure" = 'outcome' and gender_code = 'T') as outcome,
        max(value) filter (where "measure" = 'outcome' and gender_code = 'M') as outcome_men,
        max(value) filter (where "measure" = 'outcome' and gender_code = 'K') as outcome_women,
        max(report_file) filter (where "measure" = 'outcome' and gender_code = 'T') as outcome_report,
        max(quality_flag) filter (where "measure" = 'outcome') as quality_flag
    from latest
    where "measure" = 'outcome'
    group by all
),
targets as (
    select
        indicator_key, district_code, org_unit_key, year(ref_start) as target_year,
        max(value) filter (where "measure" = 'target') as target,
        max(value) filter (where "measure" = 'city_target') as city_target,
        max(value) filter (where "measure" = 'forecast') as forecast,
        -- the flags of the rows the targets and forecast come from travel with them
        string_agg(distinct quality_flag, ',' order by quality_flag) as target_flag
    from latest
    where "measure" in ('target', 'city_target', 'forecast') and gender_code = 'T'
    group by all
),
dated as (
    select
        *,
        strftime(ref_start, '%Y') as y,
        case when year(ref_start) = year(ref_end) then strftime(ref_start, '%m-%d') || '|' || strftime(ref_end, '%m-%d')
             else 'multi-year' end as md
    from outcomes
),
named as (
    -- one sortable name per period: '2014' (year), '2014-T1' / '2014-T2' (January–April / –August,
    -- cumulative like the reports), '2014-H1', '2014-Q3'; any other span as its two dates
    select
        *,
        case when md = '01-01|12-31' then 'year'
             when md in ('01-01|04-30', '01-01|08-31') then 'tertial'
             when md in ('01-01|06-30', '07-01|12-31') then 'half_year'
             when md in ('01-01|03-31', '04-01|06-30', '07-01|09-30', '10-01|12-31') then 'quarter'
             else 'other' end as period_kind,
        case md when '01-01|12-31' then y
                when '01-01|04-30' then y || '-T1'
                when '01-01|08-31' then y || '-T2'
                when '01-01|06-30' then y || '-H1'
                when '07-01|12-31' then y || '-H2'
                when '01-01|03-31' then y || '-Q1'
                when '04-01|06-30' then y || '-Q2'
                when '07-01|09-30' then y || '-Q3'
                when '10-01|12-31' then y || '-Q4'
                else strftime(ref_start, '%Y-%m-%d') || '..' || strftime(ref_end, '%Y-%m-%d') end as ref_period
    from dated
)
select
    o.indicator_key, o.indicator, o.district_code, o.district, o.org_unit_key, o.org_unit,
    o.ref_period, o.period_kind, o.ref_start, o.ref_end,
    case when month(o.ref_start) = 1 and month(o.ref_end) = 12 then 'year'
         else strftime(o.ref_start, '%Y-%m') || '..' || strftime(o.ref_end, '%Y-%m') end as span,
    o.outcome, o.outcome_men, o.outcome_women, t.forecast, t.target, t.city_target, o.unit, o.outcome_report,
    case when t.target_flag is null or o.quality_flag = t.target_flag then o.quality_flag
         when o.quality_flag is null then t.target_flag
         else o.quality_flag || ',' || t.target_flag end as quality_flag
from named o
left join targets t
    on t.indicator_key = o.indicator_key and t.district_code = o.district_code
   and t.org_unit_key is not distinct from o.org_unit_key and t.target_year = year(o.ref_start)
order by o.indicator, o.district, o.org_unit nulls first, o.ref_start, o.ref_end;

-- Outcome against the council's and the city's target, met or not, where the catalog knows which
-- direction is better; NULL where it does not (a guess would be worse than no answer).
CREATE VIEW target_attainment AS
with series as (
    select s.*, i.better from indicator_series s join dim_indicator i using (indicator_key)
    where s.outcome is not null and (s.target is not null or s.city_target is not null)
)
select
    indicator_key, indicator, district_code, district, org_unit_key, org_unit,
    ref_period, period_kind, ref_start, ref_end, span, unit, better,
    outcome, target, city_target,
    case better when 'higher' then outcome >= target when 'lower' then outcome <= target end as target_met,
    case better when 'higher' then outcome >= city_target when 'lower' then outcome <= city_target end
        as city_target_met,
    outcome - target as gap_to_target,
    quality_flag
from series
order by indicator, district, ref_start;

-- Goal assessments ("Uppfylls helt / delvis / inte") per district and period, with the goal above.
CREATE VIEW goal_assessments AS
select
    d.district, o.org_unit, p.label as report, r.report_type, r.year, r.tertial,
    g.goal_ref, g.goal_kind, g.goal_text, parent.goal_text as parent_goal_text, g.assessment, r.report_file,
    g.source_page, g.source_line,
    -- added: join keys
    r.district_code, r.org_unit_key, r.period_key, g.report_key
from dim_goal g
join dim_report r using (report_key)
join dim_period p on p.period_key = r.period_key
join dim_district d on d.district_code = r.district_code
left join dim_org_unit o on o.org_unit_key = r.org_unit_key
left join dim_goal parent on parent.report_key = g.report_key and parent.goal_ref = g.parent_ref
order by d.district, r.year, r.report_type, g.source_page nulls first, g.source_line;

-- The latest outcome of each indicator in each district (and unit), with its period and report.
CREATE VIEW indicator_latest AS
with ranked as (
    select *, row_number() over (
        partition by indicator_key, district, org_unit order by ref_end desc, ref_start desc) as n
    from indicator_series
    where outcome is not null
)
select * exclude (n) from ranked where n = 1
order by indicator, district;
