-- The committees expected to report in every report year of an era (đảng bộ phải báo cáo): the administrative
-- units one level below the province, its districts for report years up to 2024, its commune-level units from
-- 2025, as warehouse/expected.py lists them for the tracked years (docs/completeness.md). Here for every year
-- the eras cover, so that each province total can say how many of its expected committees it includes.

with

admin_units as (

    select * from {{ ref('stg_raw__admin_units') }}

),

eras as (

    select * from {{ ref('stg_raw__eras') }}

),

unit_provinces as (

    select * from {{ ref('int_admin_units__current_province') }}

),

final as (

    select
        admin_units.unit_key,
        admin_units.era,
        coalesce(eras.first_report_year, 0) as first_report_year,
        eras.last_report_year,
        admin_units.province_code,
        unit_provinces.current_province_key
    from admin_units
    inner join eras
        on admin_units.era = eras.era
    left join unit_provinces
        on admin_units.unit_key = unit_provinces.unit_key
    where admin_units.level <> 'province'

)

select * from final
