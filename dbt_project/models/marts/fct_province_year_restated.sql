-- Current (2025+) province × report_year totals: every year's accepted reports summed onto today's
-- 34 provinces, so a series runs across the 2025 reform (2023 Lào Cai restated = old Lào Cai + old
-- Yên Bái). fct_province_year stays the as-reported view. Same measures as fct_province_year and the
-- same rule: a total is null when some committee cannot give that figure. restated_from lists the
-- provinces as reported that were summed. A committee with no current province (restated_by =
-- 'unmapped') keeps its reported province, with null province_key and province_code.
-- committees_expected: how many committees of the current province's territory had to report that year (all
-- the districts of the old provinces merged into it, to 2024), committees_expected_reporting how many this
-- total includes.
-- committees_approved and province_locked: the staff's approval of the reports summed (chốt số liệu, phê duyệt),
-- as in fct_province_year.
-- Incremental per province and year: a night rebuilds only the province-years whose submissions that count, or
-- their approval, changed (macros/incremental.sql).

{{ province_year_incremental(
    'int_committee_year_totals__restated',
    'coalesce(committee_totals.current_province, committee_totals.reported_province)'
) }}

with

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

restated as (

    select
        restated.*,
        counted.approval_state,
        counted.province_locked,
        {{ is_expected_committee('restated.committee_key', 'restated.report_year') }} as is_expected_committee
    from {{ ref('int_committee_year_totals__restated') }} as restated
    inner join counted
        on restated.submission_id = counted.submission_id
    {{- province_years_not_built('coalesce(restated.current_province, restated.reported_province)', 'restated') }}

),

summed as (

    select
        current_province_key as province_key,
        current_province_code as province_code,
        coalesce(current_province, reported_province) as province,
        report_year,
        array_to_string(list_sort(list_distinct(list(reported_province))), ' + ') as restated_from,
        count(distinct reported_province) as provinces_reported,
        {{ province_year_sums() }},
        {{ province_year_approval() }}
    from restated
    group by current_province_key, current_province_code, coalesce(current_province, reported_province), report_year

),

with_expected as (

    select
        *,
        {{ committees_expected('summed.province_key', 'summed.report_year', 'current_province_key') }}
            as committees_expected
    from summed

),

final as (

    select
        {{ surrogate_key(['province_key', 'province', 'report_year']) }} as province_year_restated_id,
        province_key,
        province_code,
        province,
        report_year,
        restated_from,
        provinces_reported,
        {{ province_year_measures() }},
        committees_approved,
        province_locked
    from with_expected

)

select * from final
