-- The series rows the overview counts: for each district (and unit), the rows of the newest period
-- among its reports' own periods that has outcomes (reports newest first, as sql/report/reports.sql).
with periods as (
    select
        district, org_unit, start_date, end_date,
        row_number() over (partition by district, org_unit order by end_date desc, report_file desc) as newness
    from report_reports
),
newest_with_outcomes as (
    select p.district, p.org_unit, p.start_date, p.end_date
    from periods p
    where exists (
        select 1 from report_series s
        where s.district = p.district and s.org_unit is not distinct from p.org_unit
          and s.ref_start = p.start_date and s.ref_end = p.end_date and s.outcome is not null)
    qualify row_number() over (partition by p.district, p.org_unit order by p.newness) = 1
)
select s.*
from report_series s
semi join newest_with_outcomes n
    on n.district = s.district and n.org_unit is not distinct from s.org_unit
   and n.start_date = s.ref_start and n.end_date = s.ref_end;
