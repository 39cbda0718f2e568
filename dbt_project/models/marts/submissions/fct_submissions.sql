-- One row per submission ever registered (hồ sơ báo cáo), whatever became of it: the committee and year it
-- names, the file, its latest decision (int_submission_outcomes__latest; none yet: null outcome) and whether
-- it is the submission that counts for its committee × year (int_submissions__counted). Nothing is derived
-- here: the portal's page per report and a submitter's history read this mart from the published snapshot.

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

latest_outcomes as (

    select * from {{ ref('int_submission_outcomes__latest') }}

),

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

decided as (

    select
        submissions.*,
        latest_outcomes.outcome,
        latest_outcomes.errors,
        latest_outcomes.decided_at,
        latest_outcomes.run_id as decided_in_run_id
    from submissions
    left join latest_outcomes
        on submissions.submission_id = latest_outcomes.submission_id

),

with_counted as (

    select
        decided.*,
        counted.submission_id is not null as is_counted
    from decided
    left join counted
        on decided.submission_id = counted.submission_id

),

final as (

    select
        submission_id,
        committee_key,
        committee_name,
        committee_code,
        committee_level,
        province,
        province_code,
        report_year,
        version,
        report_kind,
        file_name,
        sha256,
        received_at,
        run_id,
        outcome,
        errors,
        decided_at,
        decided_in_run_id,
        is_counted
    from with_counted

)

select * from final
