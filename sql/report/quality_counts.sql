-- Each report's flagged and quarantined rows, counted: the quality page lists these, each report's own
-- page (sql/report/page_flagged.sql, page_quarantine.sql) the rows.
with flagged as (
    select report_file, any_value(district) as district, count(*) as flagged from report_flagged group by 1
),
quarantined as (
    select report_file, count(*) as quarantined from report_quarantine group by 1
)
select report_file, f.district, coalesce(f.flagged, 0) as flagged, coalesce(q.quarantined, 0) as quarantined
from flagged f
full join quarantined q using (report_file)
order by report_file;
