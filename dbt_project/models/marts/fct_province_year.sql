-- Province × year totals over the latest accepted report of every committee.
-- A province total is null when some reporting committee cannot give that figure
-- (e.g. members_official for an aggregate-only report): never a silent partial sum.
-- Incremental per province and year: a night rebuilds only the province-years whose submissions that count
-- changed (macros/incremental.sql).

{{ province_year_incremental('int_committee_year_totals', 'province') }}

with

committee_totals as (

    select * from {{ ref('int_committee_year_totals') }} as committee_totals
    {{- province_years_not_built('committee_totals.province', 'committee_totals') }}

),

summed as (

    select
        province,
        report_year,
        {{ province_year_sums() }}
    from committee_totals
    group by province, report_year

),

final as (

    select
        province,
        report_year,
        {{ province_year_measures() }}
    from summed

)

select * from final
