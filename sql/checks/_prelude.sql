-- Temporary views the check frames share; run on a read-only connection to the new warehouse
-- (pipeline/warehouse/gates.py) before the frames in this folder. Nothing here comes from a report.

-- Each fact's Period cell read against its report: the year in the cell ("Tertial 1 2014",
-- "VB 2013", "2014"), how many years before the report year it lies, and for a tertial report
-- whether a "Tertial N <report year>" cell names a tertial the report already covers.
CREATE OR REPLACE TEMP VIEW fact_periods AS
with read as (
    select
        f.report_key, f.row_no, f.period, r.report_type, r.year as report_year, r.tertial as report_tertial,
        try_cast(nullif(regexp_extract(f.period, '((?:19|20)[0-9]{2})', 1), '') as integer) as period_year,
        try_cast(nullif(regexp_extract(f.period, '^\s*Tertial\s*([123])\s+(?:19|20)[0-9]{2}', 1), '') as integer)
            as period_tertial
    from fact_indicator_value f
    join dim_report r using (report_key)
)
select
    *,
    report_year - period_year as period_year_lag,
    case
        when report_type in ('tertialrapport_1', 'tertialrapport_2') and period_tertial is not null
             and period_year = report_year
        then period_tertial <= report_tertial
    end as period_tertial_ok
from read;
