-- What each page is made from, one hash per page: every staged row it is planned from (the temp tables
-- report_<name> hold the results of sql/report/<name>.sql for one build). An indicator page shows its
-- series in every district; a district page its series (as compact trends), their latest rows and its
-- reports; an indicator's page of one district that series in full and its latest rows; the quality
-- page the load errors and each report's count of flagged and quarantined rows; a report's quality page
-- those rows. Rows are hashed as JSON (strings quoted, null not 'NULL', doubles in full) in sorted order,
-- so equal hashes mean equal rows.
with series as (
    select indicator_key, district, to_json(s)::varchar as line from report_series s
),
latest_rows as (
    select indicator_key, district, to_json(r)::varchar as line from report_rows r
),
district_lines as (
    select district, 's' || line as line from series
    union all
    select district, 'r' || line from latest_rows
    union all
    select district, 'p' || to_json(p)::varchar from report_reports p
),
detail_lines as (
    select district, indicator_key, 's' || line as line from series
    union all
    select district, indicator_key, 'r' || line from latest_rows
),
report_quality_lines as (
    select report_file, 'f' || to_json(f)::varchar as line from report_flagged f
    union all
    select report_file, 'q' || to_json(q)::varchar from report_quarantine q
),
quality_lines as (
    select 'c' || to_json(c)::varchar as line from report_quality_counts c
    union all
    select 'e' || to_json(e)::varchar from report_load_errors e
)
select 'indicator' as kind, indicator_key as name, null as indicator_key,
       md5(string_agg(line, chr(10) order by line)) as rows_hash
from series
group by indicator_key
union all
select 'district', district, null, md5(string_agg(line, chr(10) order by line))
from district_lines
where district in (select district from report_reports)  -- a district has a page once it has a report
group by district
union all
select 'detail', d.district, d.indicator_key, md5(string_agg(d.line, chr(10) order by d.line))
from detail_lines d
where exists (select 1 from series s where s.district = d.district and s.indicator_key = d.indicator_key)
group by d.district, d.indicator_key
union all
select 'quality_report', report_file, null, md5(string_agg(line, chr(10) order by line))
from report_quality_lines
group by report_file
union all
select 'quality', null, null, md5(coalesce(string_agg(line, chr(10) order by line), ''))
from quality_lines;
