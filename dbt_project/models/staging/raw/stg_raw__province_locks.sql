-- The province × report years locked tonight (raw.province_locks: replaced whole each night by
-- warehouse/approvals.py; an unlocked province-year has no row). province_code is in the report year's era,
-- as raw.submissions.province_code. Timestamps are UTC.

with

source as (

    select * from {{ source('raw', 'province_locks') }}

),

renamed as (

    select
        province_code,
        report_year,
        locked_at,
        locked_by

    from source

)

select * from renamed
