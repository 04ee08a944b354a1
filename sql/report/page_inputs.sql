-- What each page is made from, one hash per page: every staged row it is planned from (the temp tables
-- report_<name> hold the results of sql/report/<name>.sql for one build). An indicator page shows its
-- series in every district; a district page its series, their latest rows and its reports; the quality
-- page the flagged and quarantined rows and the load errors. Rows are hashed as JSON (strings quoted,
-- null not 'NULL', doubles in full) in sorted order, so equal hashes mean equal rows.
with series as (
    select indicator_key, district, to_json(s)::varchar as line from report_series s
),
district_lines as (
    select district, 's' || line as line from series
    union all
    select district, 'r' || to_json(r)::varchar from report_rows r
    union all
    select district, 'p' || to_json(p)::varchar from report_reports p
),
quality_lines as (
    select 'f' || to_json(f)::varchar as line from report_flagged f
    union all
    select 'q' || to_json(q)::varchar from report_quarantine q
    union all
    select 'e' || to_json(e)::varchar from report_load_errors e
)
select 'indicator' as kind, indicator_key as name, md5(string_agg(line, chr(10) order by line)) as rows_hash
from series
group by indicator_key
union all
select 'district', district, md5(string_agg(line, chr(10) order by line))
from district_lines
where district in (select district from report_reports)  -- a district has a page once it has a report
group by district
union all
select 'quality', null, md5(coalesce(string_agg(line, chr(10) order by line), ''))
from quality_lines;
