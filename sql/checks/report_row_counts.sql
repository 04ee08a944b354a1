-- The frame the report_row_counts suite checks: for each report of the previous warehouse whose
-- content or file name is still in the raw folder, its facts then and now. A report that gives far
-- fewer rows than before from the same content or file is a parser regression, not news.
-- previous_counts (report_key, report_file, rows_before) and present_files (name, sha256) are
-- registered by pipeline/warehouse/gates.py; a file deliberately superseded by a fuller report is left out, and
-- so is a report not loaded at all: the gate's published_reports_kept() names it with its reason.
with now as (
    select r.report_key, r.report_file, count(f.row_no) as rows_now
    from dim_report r left join fact_indicator_value f using (report_key)
    group by r.report_key, r.report_file
),
superseded as (
    select file from load_errors where reason like 'superseded by %'
),
matched as (
    select
        p.report_file, p.report_key, p.rows_before,
        coalesce(same_content.rows_now, same_name.rows_now, 0) as rows_now,
        case when same_content.report_key is not null then 'same content'
             when same_name.report_file is not null then 'same file name'
             else 'not loaded now' end as matched_by
    from previous_counts p
    left join now same_content on same_content.report_key = p.report_key
    left join now same_name on same_name.report_file = p.report_file
    where (p.report_key in (select sha256 from present_files) or p.report_file in (select name from present_files))
      and p.report_file not in (select file from superseded)
)
select *, rows_now / greatest(rows_before, 1) as row_ratio
from matched
where matched_by <> 'not loaded now'
order by report_file
