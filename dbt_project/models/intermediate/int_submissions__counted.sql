-- Which submission counts: one row per committee_key × report_year, the accepted report whose figures
-- are the committee's for that year — a detailed one when there is one (detail wins over aggregate-only),
-- then the latest accepted version. A submission's outcome is its latest decision (a later run may
-- re-decide it). After its province × report_year is locked (chốt số liệu), a version received later is
-- eligible only once the staff approve it (int_submissions__approval: held_by_lock); until then the version
-- counted before the lock keeps counting. This is the one definition: the marts, the history checks, the
-- province reconciliation, `chibo history` and the digest all read this view (it sees tonight's rows as soon
-- as they are committed).

with

accepted_submissions as (

    select * from {{ ref('int_submissions__approval') }}

),

eligible_submissions as (

    select *
    from accepted_submissions
    where not held_by_lock

),

latest_versions as (

    select *
    from eligible_submissions
    qualify row_number() over (
        partition by committee_key, report_year
        -- detail wins: a detailed report is preferred to an aggregate-only one for the same year,
        -- then the latest version
        order by (report_kind = 'detailed') desc, version desc, received_at desc
    ) = 1

),

final as (

    select
        {{ surrogate_key(['committee_key', 'report_year']) }} as committee_year_id,
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
        approved_by,
        approved_at,
        province_locked
    from latest_versions

)

select * from final
