-- The latest rows (sql/report/rows.sql) of the districts and the indicators' pages of one district whose
-- pages are written ($details: district and indicator key joined by chr(31)).
select * from report_rows
where list_contains($districts::varchar[], district)
   or list_contains($details::varchar[], district || chr(31) || indicator_key);
