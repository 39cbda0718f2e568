with

source as (

    select * from {{ source('raw', 'rule_results') }}

),

renamed as (

    select
        submission_id,
        run_id,
        rule_id,
        severity,
        status,
        try_cast(failed_rows as integer) as failed_rows

    from source

)

select * from renamed
