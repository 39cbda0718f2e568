with

source as (

    select * from {{ source('raw', 'submission_outcomes') }}

),

renamed as (

    select
        submission_id,
        run_id,
        outcome,
        decided_at,
        try_cast(errors as integer) as error_count

    from source

)

select * from renamed
