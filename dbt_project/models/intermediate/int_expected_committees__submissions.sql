-- One row per expected committee (province × report_year × unit): what it has sent for that year.
-- A submission counts for a committee when its committee_key is the unit's key (the intake stores the
-- resolved unit's key there) and its year is the report year: a report from a unit of another province,
-- or from a committee that could not be resolved, never counts. Unreadable files have no key.
-- A submission is accepted when its latest decision is 'accepted'; one with no decision yet is received only.
-- On time is judged on the first ACCEPTED submission: a rejected report does not meet the obligation.
-- received_at is UTC; the deadline is a Vietnamese calendar day: see macros/reporting_deadline.sql.
-- Loaded from history (nạp từ dữ liệu lịch sử): a night (run_id) that took in accepted reports of at least
-- var('history_load_min_years') (3) report years at once is loading past years' reports, as a deployment does on its
-- first night or as the demo history does; its reports were received when the history was loaded, not when the
-- committees sent them, so a first accepted report from such a night that arrived after the deadline is not late:
-- its timeliness is unknown (fct_reporting_status: from_history). One received by the deadline is still on time.

with

expected as (

    select * from {{ ref('stg_raw__expected_committees') }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

latest_outcomes as (

    select * from {{ ref('int_submission_outcomes__latest') }}

),


decided_submissions as (

    select
        submissions.committee_key,
        submissions.report_year,
        submissions.received_at,
        submissions.run_id,
        coalesce(latest_outcomes.outcome = 'accepted', false) as is_accepted
    from submissions
    left join latest_outcomes
        on submissions.submission_id = latest_outcomes.submission_id
    where
        submissions.committee_key is not null
        and submissions.report_year is not null

),

history_loads as (

    select run_id
    from decided_submissions
    where is_accepted
    group by run_id
    having count(distinct report_year) >= {{ var('history_load_min_years', 3) }}

),

with_origin as (

    select
        decided_submissions.*,
        decided_submissions.run_id in (select history_loads.run_id from history_loads) as is_history_load
    from decided_submissions

),

committee_submissions as (

    select
        committee_key,
        report_year,
        count(*) as submissions_received,
        count(*) filter (where is_accepted) as submissions_accepted,
        min(received_at) as first_received_at,
        min(received_at) filter (where is_accepted) as first_accepted_at,
        arg_min(is_history_load, received_at) filter (where is_accepted) as first_accepted_from_history
    from with_origin
    group by committee_key, report_year

),

joined as (

    select
        expected.province,
        expected.province_code,
        expected.report_year,
        expected.unit_key,
        expected.unit_code,
        expected.unit_name,
        expected.deadline,
        {{ on_time_cutoff('expected.deadline') }} as on_time_cutoff_at,
        coalesce(committee_submissions.submissions_received, 0) as submissions_received,
        coalesce(committee_submissions.submissions_accepted, 0) as submissions_accepted,
        committee_submissions.first_received_at,
        committee_submissions.first_accepted_at,
        coalesce(committee_submissions.first_accepted_from_history, false) as first_accepted_from_history
    from expected
    left join committee_submissions
        on expected.unit_key = committee_submissions.committee_key
        and expected.report_year = committee_submissions.report_year

),

final as (

    select
        {{ surrogate_key(['unit_key', 'report_year']) }} as expected_committee_year_id,
        province,
        province_code,
        report_year,
        unit_key,
        unit_code,
        unit_name,
        deadline,
        on_time_cutoff_at,
        submissions_received,
        submissions_accepted,
        first_received_at,
        first_accepted_at,
        {{ vietnam_date('first_received_at') }} as first_received_on,
        {{ vietnam_date('first_accepted_at') }} as first_accepted_on,
        submissions_received > 0 as has_received,
        submissions_accepted > 0 as has_accepted,
        coalesce(first_accepted_at < on_time_cutoff_at, false) as is_on_time,
        first_accepted_from_history and not coalesce(first_accepted_at < on_time_cutoff_at, false)
            as is_from_history
    from joined

)

select * from final
