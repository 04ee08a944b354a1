-- The series rows of the pages to write: every row of their districts and of their indicators (a staged
-- table keeps the order sql/report/series.sql gave it).
select * from report_series
where list_contains($districts::varchar[], district) or list_contains($indicators::varchar[], indicator_key);
