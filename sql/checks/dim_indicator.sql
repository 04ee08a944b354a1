-- The frame the dim_indicator suite checks: indicators with how many facts use each.
select
    i.indicator_key, i.indicator, i.unit, i.by_gender,
    (select count(*) from fact_indicator_value f where f.indicator_key = i.indicator_key) as fact_rows
from dim_indicator i
order by i.indicator_key
