-- One row per administrative unit of either era (raw.ref_admin_units) with the current (2025+) province
-- it belongs to today: a 2025+ unit its own province; a pre-2025 province the province it was merged into
-- (province crosswalk); a pre-2025 district the province its communes went to (district crosswalk).

with

admin_units as (

    select * from {{ ref('stg_raw__admin_units') }}

),

province_crosswalk as (

    select * from {{ ref('stg_raw__province_crosswalk') }}

),

district_crosswalk as (

    select * from {{ ref('stg_raw__district_crosswalk') }}

),

eras as (

    select * from {{ ref('stg_raw__eras') }}

),

with_era as (

    -- the current era is the one with no end (raw.ref_eras, from units.admin_units.REFORM_DAY)
    select
        admin_units.*,
        eras.valid_to is null as is_current_era
    from admin_units
    inner join eras
        on admin_units.era = eras.era

),

current_provinces as (

    select
        unit_key as current_province_key,
        code as current_province_code,
        short_name as current_province
    from with_era
    where is_current_era and level = 'province'

),

mapped as (

    select
        admin_units.unit_key,
        case
            when admin_units.is_current_era then admin_units.province_key
            when admin_units.level = 'province' then province_crosswalk.new_province_key
            when admin_units.level = 'district' then district_crosswalk.new_province_key
        end as current_province_key,
        case
            when admin_units.is_current_era then 'own_province'
            when admin_units.level = 'province' then 'province_crosswalk'
            when admin_units.level = 'district' then 'district_crosswalk'
        end as current_province_source
    from with_era as admin_units
    left join province_crosswalk
        on admin_units.unit_key = province_crosswalk.old_province_key
    left join district_crosswalk
        on admin_units.unit_key = district_crosswalk.district_key

),

final as (

    select
        mapped.unit_key,
        mapped.current_province_key,
        current_provinces.current_province_code,
        current_provinces.current_province,
        mapped.current_province_source
    from mapped
    left join current_provinces
        on mapped.current_province_key = current_provinces.current_province_key

)

select * from final
