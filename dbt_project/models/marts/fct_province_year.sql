-- Province × year totals over the latest accepted report of every committee.
-- A province total is null when some reporting committee cannot give that figure
-- (e.g. members_official for an aggregate-only report): never a silent partial sum.
-- committees_approved and province_locked: the staff's approval of the reports summed (chốt số liệu, phê duyệt).
-- Incremental per province and year: a night rebuilds only the province-years whose submissions that count, or
-- their approval, changed (macros/incremental.sql).

{{ province_year_incremental('int_committee_year_totals', 'committee_totals.province') }}

with

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

committee_totals as (

    select
        committee_totals.*,
        counted.approval_state,
        counted.province_locked
    from {{ ref('int_committee_year_totals') }} as committee_totals
    inner join counted
        on committee_totals.submission_id = counted.submission_id
    {{- province_years_not_built('committee_totals.province', 'committee_totals') }}

),

summed as (

    select
        province,
        report_year,
        {{ province_year_sums() }},
        {{ province_year_approval() }}
    from committee_totals
    group by province, report_year

),

final as (

    select
        province,
        report_year,
        {{ province_year_measures() }},
        committees_approved,
        province_locked
    from summed

)

select * from final
