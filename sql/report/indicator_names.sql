-- Every indicator with a series: the overview lists them all.
select distinct indicator, indicator_key from report_series;
