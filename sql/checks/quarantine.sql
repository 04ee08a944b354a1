-- The frame the quarantine suite checks: quarantined rows and whether their report is loaded.
select
    q.report_file, q.row_no, q.indicator_as_printed, q.reason, q.source_line,
    q.report_file in (select report_file from dim_report) as report_loaded
from quarantine q
order by q.report_file, q.row_no
