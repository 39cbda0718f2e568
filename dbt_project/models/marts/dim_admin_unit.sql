-- Versioned dimension of administrative units: one row per unit version, both eras side by side.
-- Pre-2025 units (63 provinces, 696 districts) are valid until 2025-06-30; their valid_from is null
-- because the package only holds the final pre-reform snapshot (start dates unknown). 2025+ units
-- (34 provinces, 3,321 communes) are valid from 2025-07-01 with no end. Join on unit_key, never on
-- code: codes were reused (code 15 is Yên Bái before the reform and the new Lào Cai after).

with

admin_units as (

    select * from {{ ref('stg_raw__admin_units') }}

),

current_provinces as (

    select * from {{ ref('int_admin_units__current_province') }}

),

final as (

    select
        admin_units.unit_key,
        admin_units.era,
        admin_units.level,
        admin_units.code,
        admin_units.name,
        admin_units.short_name,
        admin_units.province_key,
        admin_units.province_code,
        admin_units.province_name,
        admin_units.valid_from,
        admin_units.valid_to,
        admin_units.valid_to is null as is_current,
        current_provinces.current_province_key,
        current_provinces.current_province_code,
        current_provinces.current_province
    from admin_units
    left join current_provinces
        on admin_units.unit_key = current_provinces.unit_key

)

select * from final
