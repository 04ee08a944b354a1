select report_file, row_no, indicator_as_printed, reason, source_page, source_line, raw_text
from quarantine
order by report_file, source_page nulls first, source_line, row_no;
