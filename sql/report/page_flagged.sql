-- The flagged rows (sql/report/flagged.sql) of the reports whose quality pages are written.
select * from report_flagged where list_contains($files::varchar[], report_file);
