-- Province × year totals over the latest accepted report of every committee.
-- A province total is null when some reporting committee cannot give that figure
-- (e.g. members_official for an aggregate-only report): never a silent partial sum.
-- committees_expected: how many committees had to report (districts to 2024, commune-level units from 2025), and
-- committees_expected_reporting how many of them this total includes (committees_reporting may also count
-- committees directly under the province, which are not expected).
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
        counted.province_locked,
        {{ is_expected_committee('committee_totals.committee_key', 'committee_totals.report_year') }}
            as is_expected_committee
    from {{ ref('int_committee_year_totals') }} as committee_totals
    inner join counted
        on committee_totals.submission_id = counted.submission_id
    {{- province_years_not_built('committee_totals.province', 'committee_totals') }}

),

summed as (

    select
        province,
        report_year,
        any_value(province_code) as province_code,
        {{ province_year_sums() }},
        {{ province_year_approval() }}
    from committee_totals
    group by province, report_year

),

with_expected as (

    select
        *,
        {{ committees_expected('summed.province_code', 'summed.report_year', 'province_code') }} as committees_expected
    from summed

),

final as (

    select
        province,
        report_year,
        {{ province_year_measures() }},
        committees_approved,
        province_locked
    from with_expected

)

select * from final
