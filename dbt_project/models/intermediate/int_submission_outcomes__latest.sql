-- One row per decided submission: its latest decision (a submission is decided once today; if a later
-- run ever re-decides one, the latest decision counts).

with

outcomes as (

    select * from {{ ref('stg_raw__submission_outcomes') }}

),

latest as (

    select
        submission_id,
        outcome,
        error_count as errors,
        decided_at,
        run_id
    from outcomes
    qualify row_number() over (
        partition by submission_id
        order by decided_at desc, run_id desc
    ) = 1

),

final as (

    select * from latest

)

select * from final
