-- The series rows of the pages to write: every row of their districts, of their indicators and of the
-- indicators' pages of one district ($details: district and indicator key joined by chr(31)); a staged
-- table keeps the order sql/report/series.sql gave it.
select * from report_series
where list_contains($districts::varchar[], district) or list_contains($indicators::varchar[], indicator_key)
   or list_contains($details::varchar[], district || chr(31) || indicator_key);
