with

source as (

    select * from {{ source('raw', 'validation_failures') }}

),

renamed as (

    select
        submission_id,
        run_id,
        rule_id,
        sheet,
        try_cast(sheet_row as integer) as sheet_row,
        field,
        value,
        message,
        severity,
        fix,
        docs_url

    from source

)

select * from renamed
