-- Administrative units of both eras (raw.ref_admin_units, written by warehouse/admin_dimension.py).
-- Until the night has written the table once, this view is empty rather than failing the build.
-- depends_on: {{ source('raw', 'ref_admin_units') }}

{%- set source_relation = adapter.get_relation(
    database=target.database, schema='raw', identifier='ref_admin_units'
) if execute else none %}

with

{% if source_relation is not none or not execute %}

source as (

    select * from {{ source('raw', 'ref_admin_units') }}

),

{% else %}

source as (

    select
        cast(null as varchar) as unit_key,
        cast(null as varchar) as era,
        cast(null as varchar) as level,
        cast(null as varchar) as code,
        cast(null as varchar) as name,
        cast(null as varchar) as short_name,
        cast(null as varchar) as province_code,
        cast(null as varchar) as province_name,
        cast(null as varchar) as province_key,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to
    where false

),

{% endif %}

renamed as (

    select
        unit_key,
        era,
        level,
        code,
        name,
        short_name,
        province_code,
        province_name,
        province_key,
        try_cast(valid_from as date) as valid_from,
        try_cast(valid_to as date) as valid_to

    from source

)

select * from renamed
