-- One row per accepted submission (its latest outcome is accepted): its approval by the province's staff and
-- whether a lock holds it back. This is the one definition of approval and locking ("phê duyệt", "chốt số liệu"):
--   approval_state  the latest staff decision on the submission, 'approved' or 'returned'; none = 'pending'
--   province_locked its province × report_year is locked now (raw.province_locks holds only the current locks:
--                   an unlock removes the row); province_code is in the report year's era on both sides, so
--                   the code and the year together are unambiguous across the 2025 reform
--   held_by_lock    received after locked_at and not approved: it may not count ("chờ phê duyệt sau khi chốt")
-- int_submissions__counted ranks only the submissions not held by a lock; fct_awaiting_approval lists the others.

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

latest_outcomes as (

    select * from {{ ref('int_submission_outcomes__latest') }}

),

decisions as (

    select * from {{ ref('stg_raw__approval_decisions') }}

),

locks as (

    select * from {{ ref('stg_raw__province_locks') }}

),

accepted_submissions as (

    select
        submissions.*,
        latest_outcomes.decided_at,
        latest_outcomes.run_id as decided_in_run_id
    from submissions
    inner join latest_outcomes
        on submissions.submission_id = latest_outcomes.submission_id
    where latest_outcomes.outcome = 'accepted'

),

approvals as (

    select
        accepted_submissions.*,
        coalesce(decisions.decision_state, 'pending') as approval_state,
        decisions.decision_comment as approval_comment,
        decisions.decided_by as approval_decided_by,
        decisions.decided_at as approval_decided_at,
        locks.report_year is not null as province_locked,
        locks.locked_at,
        locks.locked_by
    from accepted_submissions
    left join decisions
        on accepted_submissions.submission_id = decisions.submission_id
    left join locks
        on accepted_submissions.province_code = locks.province_code
        and accepted_submissions.report_year = locks.report_year

),

final as (

    select
        submission_id,
        committee_key,
        report_year,
        version,
        sha256,
        province,
        committee_name,
        committee_code,
        committee_level,
        province_code,
        report_kind,
        file_name,
        received_at,
        decided_at,
        decided_in_run_id,
        approval_state,
        case when approval_state = 'approved' then approval_decided_by end as approved_by,
        case when approval_state = 'approved' then approval_decided_at end as approved_at,
        approval_comment,
        approval_decided_by,
        approval_decided_at,
        province_locked,
        locked_at,
        locked_by,
        -- an arrival time unknown under a lock is held too: never count an unapproved figure by default
        province_locked and approval_state != 'approved' and coalesce(received_at > locked_at, true)
            as held_by_lock
    from approvals

)

select * from final
