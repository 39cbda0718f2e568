-- The latest staff decision on each submission, as the portal holds it tonight (raw.approval_decisions:
-- replaced whole each night by warehouse/approvals.py). Timestamps are UTC.

with

source as (

    select * from {{ source('raw', 'approval_decisions') }}

),

renamed as (

    select
        submission_id,
        state as decision_state,
        comment as decision_comment,
        decided_by,
        decided_at

    from source

)

select * from renamed
