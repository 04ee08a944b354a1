-- The frame the load_errors suite checks: every file or part of a file not used, with its reason.
select file, stage, reason, file in (select report_file from dim_report) as file_loaded
from load_errors
order by file, stage, reason
