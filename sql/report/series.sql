-- The report's series: one row per indicator, district (and unit) and period, with each value's source.
-- Periods with an outcome come from indicator_series (and target_attainment for met / not met); a year
-- with a target but no outcome yet (a plan, an annual indicator in a tertial report) is a row of its own
-- so its targets show. Each value names the report row it was printed in (indicator_latest_revision).
with series as (
    select * from indicator_series
),
sources as (
    select
        indicator_key, district, org_unit, "measure", gender_code, ref_start, ref_end,
        report_file, source_page, source_line, quality_flag, value
    from indicator_latest_revision
),
target_sources as (
    -- one target and one city target per indicator, district, unit and year, as indicator_series joins them
    select *, year(ref_start) as target_year
    from sources
    where "measure" in ('target', 'city_target') and gender_code = 'T'
    qualify row_number() over (
        partition by indicator_key, district, org_unit, "measure", year(ref_start)
        order by value desc nulls last, report_file desc, source_page nulls first, source_line) = 1
),
target_only as (
    select
        t.indicator_key, any_value(i.indicator) as indicator, t.district, t.org_unit,
        make_date(t.target_year, 1, 1) as ref_start, make_date(t.target_year, 12, 31) as ref_end,
        max(t.value) filter (where t."measure" = 'target') as target,
        max(t.value) filter (where t."measure" = 'city_target') as city_target
    from target_sources t
    join dim_indicator i using (indicator_key)
    where not exists (
        select 1 from series s
        where s.indicator_key = t.indicator_key and s.district = t.district
          and s.org_unit is not distinct from t.org_unit and year(s.ref_start) = t.target_year)
    group by t.indicator_key, t.district, t.org_unit, t.target_year
),
rows as (
    select
        indicator_key, indicator, district, org_unit, ref_start, ref_end, unit,
        outcome, outcome_men, outcome_women, target, city_target, quality_flag
    from series
    union all
    select
        indicator_key, indicator, district, org_unit, ref_start, ref_end, null as unit,
        null as outcome, null as outcome_men, null as outcome_women, target, city_target, null as quality_flag
    from target_only
)
select
    r.*,
    i.better,
    coalesce(r.unit, i.unit) as display_unit,
    a.target_met,
    a.city_target_met,
    o.report_file as outcome_file, o.source_page as outcome_page, o.source_line as outcome_line,
    o.quality_flag as outcome_flag,
    m.report_file as men_file, m.source_page as men_page, m.source_line as men_line, m.quality_flag as men_flag,
    k.report_file as women_file, k.source_page as women_page, k.source_line as women_line,
    k.quality_flag as women_flag,
    t.report_file as target_file, t.source_page as target_page, t.source_line as target_line,
    t.quality_flag as target_flag,
    c.report_file as city_target_file, c.source_page as city_target_page, c.source_line as city_target_line,
    c.quality_flag as city_target_flag
from rows r
join dim_indicator i using (indicator_key)
left join target_attainment a
    on a.indicator_key = r.indicator_key and a.district = r.district and a.org_unit is not distinct from r.org_unit
   and a.ref_start = r.ref_start and a.ref_end = r.ref_end
left join sources o
    on o.indicator_key = r.indicator_key and o.district = r.district and o.org_unit is not distinct from r.org_unit
   and o.ref_start = r.ref_start and o.ref_end = r.ref_end and o."measure" = 'outcome' and o.gender_code = 'T'
left join sources m
    on m.indicator_key = r.indicator_key and m.district = r.district and m.org_unit is not distinct from r.org_unit
   and m.ref_start = r.ref_start and m.ref_end = r.ref_end and m."measure" = 'outcome' and m.gender_code = 'M'
left join sources k
    on k.indicator_key = r.indicator_key and k.district = r.district and k.org_unit is not distinct from r.org_unit
   and k.ref_start = r.ref_start and k.ref_end = r.ref_end and k."measure" = 'outcome' and k.gender_code = 'K'
left join target_sources t
    on t.indicator_key = r.indicator_key and t.district = r.district and t.org_unit is not distinct from r.org_unit
   and t.target_year = year(r.ref_start) and t."measure" = 'target'
left join target_sources c
    on c.indicator_key = r.indicator_key and c.district = r.district and c.org_unit is not distinct from r.org_unit
   and c.target_year = year(r.ref_start) and c."measure" = 'city_target'
order by r.indicator, r.district, r.org_unit nulls first, r.ref_end, r.ref_start, r.indicator_key, r.unit nulls first;
