-- The frame the dim_district suite checks: councils with their years and successor.
select
    d.district_code, d.municipality, d.district, d.valid_from, d.valid_to, d.replaced_by,
    d.valid_to is null or d.valid_to >= d.valid_from as valid_years_ordered,
    d.replaced_by is null or s.district_code is not null as successor_exists
from dim_district d
left join dim_district s on s.district_code = d.replaced_by
order by d.district_code
