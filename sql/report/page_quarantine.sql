-- The quarantined rows (sql/report/quarantine.sql) of the reports whose quality pages are written.
select * from report_quarantine where list_contains($files::varchar[], report_file);
