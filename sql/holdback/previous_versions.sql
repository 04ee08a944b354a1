-- The published versions of the reports the gate holds back (the same file name or the same content),
-- as rows of a build's reports.parquet (pipeline/build/stages.py), with the cached result each was
-- loaded from (build_state). Run read-only on the published warehouse (pipeline/warehouse/holdback.py);
-- $1: the held-back reports' keys, $2: their file names.
select
    r.report_key, r.report_file, r.source_kind, r.report_type, r.year, r.tertial, r.district_code,
    o.org_unit, r.metadata_source, r.period_key, p.label as period_label, p.start_date as period_start,
    p.end_date as period_end, s.value as cache_key
from dim_report r
join dim_period p using (period_key)
left join dim_org_unit o using (org_unit_key)
join build_state s on s.name = 'report ' || r.report_key
where list_contains($1::VARCHAR[], r.report_key) or list_contains($2::VARCHAR[], r.report_file)
order by r.report_file
