-- What sql/load.sql and sql/patch.sql read from the staged Parquet files of one build ({stage}):
-- every report's valid rows, and dim_indicator as it follows from all of them.

CREATE TEMP VIEW staged_facts AS
SELECT * FROM read_parquet({stage} || '/valid/*.parquet', union_by_name = true);

CREATE TEMP TABLE indicators_now AS
select
    indicator_key,
    min(indicator) as indicator,
    mode(unit) as unit,
    bool_or(by_gender or outcome_men is not null or outcome_women is not null) as by_gender,
    min(better) as better,
    min(catalog_status) as catalog_status,
    min(proposed_key) as proposed_key,
    max(proposed_score) as proposed_score,
    count(distinct indicator_as_printed) as name_variants
from staged_facts
group by indicator_key;
