-- The latest rows (sql/report/rows.sql) of the districts whose pages are written.
select * from report_rows where list_contains($districts::varchar[], district);
