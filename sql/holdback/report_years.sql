-- For the reports the gate holds back ($1: their keys), read from the new warehouse: the report's year,
-- where its metadata came from, and the years its Period cells name, the most frequent first; so the
-- reason says which year the rows are about (pipeline/warehouse/holdback.py).
with cells as (
    -- the year the period grammar read in the cell (pipeline/common/periods.py), not read again here
    select report_key, case when period_kind in ('tertial', 'half_year', 'quarter', 'year') then year(period_end) end as y
    from fact_indicator_value
    where list_contains($1::VARCHAR[], report_key)
),
years as (
    select report_key, y, count(*) as n from cells where y is not null group by all
)
select r.report_key, r.year, r.metadata_source, list(y.y order by y.n desc, y.y) filter (where y.y is not null) as period_years
from dim_report r
left join years y using (report_key)
where list_contains($1::VARCHAR[], r.report_key)
group by all
