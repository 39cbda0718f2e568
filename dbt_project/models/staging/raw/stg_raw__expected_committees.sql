-- Committees expected to report (raw.ref_expected_committees, written by warehouse/expected.py).
-- Until the night has written the table once, this view is empty rather than failing the build.
-- depends_on: {{ source('raw', 'ref_expected_committees') }}

{%- set expected_relation = adapter.get_relation(
    database=target.database, schema='raw', identifier='ref_expected_committees'
) if execute else none %}

with

{% if expected_relation is not none or not execute %}

source as (

    select * from {{ source('raw', 'ref_expected_committees') }}

),

{% else %}

source as (

    select
        cast(null as varchar) as province,
        cast(null as varchar) as province_code,
        cast(null as integer) as report_year,
        cast(null as varchar) as unit_key,
        cast(null as varchar) as unit_code,
        cast(null as varchar) as unit_name,
        cast(null as date) as deadline
    where false

),

{% endif %}

renamed as (

    select
        province,
        province_code,
        try_cast(report_year as integer) as report_year,
        unit_key,
        unit_code,
        unit_name,
        try_cast(deadline as date) as deadline

    from source

)

select * from renamed
