with

source as (

    select * from {{ source('raw', 'ref_eras') }}

),

renamed as (

    select
        era,
        try_cast(first_report_year as integer) as first_report_year,
        try_cast(last_report_year as integer) as last_report_year,
        try_cast(valid_from as date) as valid_from,
        try_cast(valid_to as date) as valid_to,
        submitting_level

    from source

)

select * from renamed
