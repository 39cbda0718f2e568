-- Pre-2025 province → the 2025+ province it became part of (raw.ref_province_crosswalk, written by
-- warehouse/admin_dimension.py from the package's conversion tables). Empty until first written.
-- depends_on: {{ source('raw', 'ref_province_crosswalk') }}

{%- set source_relation = adapter.get_relation(
    database=target.database, schema='raw', identifier='ref_province_crosswalk'
) if execute else none %}

with

{% if source_relation is not none or not execute %}

source as (

    select * from {{ source('raw', 'ref_province_crosswalk') }}

),

{% else %}

source as (

    select
        cast(null as varchar) as old_province_key,
        cast(null as varchar) as old_province_code,
        cast(null as varchar) as old_province_name,
        cast(null as varchar) as new_province_key,
        cast(null as varchar) as new_province_code,
        cast(null as varchar) as new_province_name
    where false

),

{% endif %}

renamed as (

    select
        old_province_key,
        old_province_code,
        old_province_name,
        new_province_key,
        new_province_code,
        new_province_name

    from source

)

select * from renamed
