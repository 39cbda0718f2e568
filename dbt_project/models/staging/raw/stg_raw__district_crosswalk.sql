-- Pre-2025 district → the 2025+ province its communes went to (raw.ref_district_crosswalk, written by
-- warehouse/admin_dimension.py from the package's conversion tables). Empty until first written.
-- depends_on: {{ source('raw', 'ref_district_crosswalk') }}

{%- set source_relation = adapter.get_relation(
    database=target.database, schema='raw', identifier='ref_district_crosswalk'
) if execute else none %}

with

{% if source_relation is not none or not execute %}

source as (

    select * from {{ source('raw', 'ref_district_crosswalk') }}

),

{% else %}

source as (

    select
        cast(null as varchar) as district_key,
        cast(null as varchar) as district_code,
        cast(null as varchar) as district_name,
        cast(null as varchar) as old_province_key,
        cast(null as varchar) as new_province_key,
        cast(null as varchar) as new_province_code,
        cast(null as varchar) as new_province_name
    where false

),

{% endif %}

renamed as (

    select
        district_key,
        district_code,
        district_name,
        old_province_key,
        new_province_key,
        new_province_code,
        new_province_name

    from source

)

select * from renamed
