-- Rows whose reading is uncertain, with what is uncertain and the source lines as extracted.
select
    v.report_file, v.district, v.org_unit, v.period, v.indicator, v.indicator_as_printed, v.unit, v.outcome,
    v.target, v.city_target, v.quality_flag, v.source_page, v.source_line, f.raw_text
from indicator_values v
join dim_report r on r.report_file = v.report_file
join fact_indicator_value f
    on f.report_key = r.report_key and f.source_page is not distinct from v.source_page
   and f.source_line = v.source_line and f.indicator_as_printed = v.indicator_as_printed
where v.quality_flag is not null
order by v.report_file, v.source_page nulls first, v.source_line;
