-- Báo cáo chờ phê duyệt sau khi chốt: the accepted submissions a lock holds back (int_submissions__approval:
-- received after their province × report_year was locked, not approved), one row per submission, with the
-- version that counts for the committee and year meanwhile (null when none does). A row leaves this mart when the
-- staff approve the submission (it may then count) or unlock the province-year; a returned one stays, with the
-- staff's comment. Rebuilt whole every night.

with

accepted_submissions as (

    select * from {{ ref('int_submissions__approval') }}

),

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

held as (

    select *
    from accepted_submissions
    where held_by_lock

),

final as (

    select
        held.submission_id,
        held.committee_key,
        held.report_year,
        held.province,
        held.province_code,
        held.committee_name,
        held.committee_level,
        held.version,
        held.report_kind,
        held.file_name,
        held.received_at,
        held.approval_state,
        held.approval_comment,
        held.approval_decided_by,
        held.approval_decided_at,
        held.locked_at,
        held.locked_by,
        counted.submission_id as counted_submission_id,
        counted.version as counted_version,
        counted.report_kind as counted_report_kind,
        counted.approval_state as counted_approval_state
    from held
    left join counted
        on held.committee_key = counted.committee_key
        and held.report_year = counted.report_year

)

select * from final
