-- Which submission counts: one row per committee_key × report_year, the accepted report whose figures
-- are the committee's for that year — a detailed one when there is one (detail wins over aggregate-only),
-- then the latest accepted version. A submission's outcome is its latest decision (a later run may
-- re-decide it). This is the one definition: the marts, the history checks, the province reconciliation,
-- `chibo history` and the digest all read this view (it sees tonight's rows as soon as they are committed).

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

latest_outcomes as (

    select * from {{ ref('int_submission_outcomes__latest') }}

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

latest_versions as (

    select *
    from accepted_submissions
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
        decided_in_run_id
    from latest_versions

)

select * from final
