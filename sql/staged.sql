-- What sql/load.sql and sql/patch.sql read from the staged Parquet files of one build ({stage}):
-- every report's valid rows, and dim_indicator as it follows from all of them.

CREATE TEMP VIEW staged_facts AS
SELECT * FROM read_parquet({stage} || '/valid/*.parquet', union_by_name = true);

-- An indicator's unit is the one most of its rows print; on a tie the first in sort order, so the unit a
-- row without one takes (sql/facts.sql) never depends on the order files were read.
CREATE TEMP TABLE indicator_units AS
select indicator_key, first(unit order by n desc, unit) as unit
from (select indicator_key, unit, count(*) as n from staged_facts where unit is not null group by all)
group by indicator_key;

CREATE TEMP TABLE indicators_now AS
select
    indicator_key,
    min(indicator) as indicator,
    any_value(u.unit) as unit,
    bool_or(by_gender or outcome_men is not null or outcome_women is not null) as by_gender,
    min(better) as better,
    min(catalog_status) as catalog_status,
    min(proposed_key) as proposed_key,
    max(proposed_score) as proposed_score,
    count(distinct indicator_as_printed) as name_variants
from staged_facts
left join indicator_units u using (indicator_key)
group by indicator_key;
