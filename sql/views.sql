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
        f.quality_flag
    from facts f
    join dim_report r using (report_key)
    join dim_district d on d.district_code = f.district_code
    join dim_indicator i using (indicator_key)
    left join dim_org_unit o on o.org_unit_key = f.org_unit_key
)
select * from joined
order by report_file, source_page nulls first, source_line;
