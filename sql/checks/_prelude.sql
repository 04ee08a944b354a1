-- Temporary views the check frames share; run on a read-only connection to the new warehouse
-- (pipeline/warehouse/gates.py) before the frames in this folder. Nothing here comes from a report.

-- Each fact's Period cell read against its report: the year the cell names ("Tertial 1 2014",
-- "T1 2014", "VB 2013", "2014"), how many years before the report year it lies, and for a tertial report
-- whether a "Tertial N <report year>" cell names a tertial the report already covers. The cell is not
-- read again here: period_kind/start/end are what the one period grammar (pipeline/common/periods.py)
-- made of it, so a cell it does not read names no year here either.
CREATE OR REPLACE TEMP VIEW fact_periods AS
with read as (
    select
        f.report_key, f.row_no, f.period, r.report_type, r.year as report_year, r.tertial as report_tertial,
        case when f.period_kind in ('tertial', 'half_year', 'quarter', 'year') then year(f.period_end) end
            as period_year,
        case when f.period_kind = 'tertial' then month(f.period_end) // 4 end as period_tertial
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
