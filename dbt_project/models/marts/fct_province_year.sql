-- Province × year totals over the latest accepted report of every committee.
-- A province total is null when some reporting committee cannot give that figure
-- (e.g. members_official for an aggregate-only report): never a silent partial sum.

with

committee_totals as (

    select * from {{ ref('int_committee_year_totals') }}

),

summed as (

    select
        province,
        report_year,
        count(*) as committees_reporting,
        {{ complete_sum('orgs_total') }} as orgs_total,
        {{ complete_sum('orgs_party_committee') }} as orgs_party_committee,
        {{ complete_sum('orgs_grassroots_branch') }} as orgs_grassroots_branch,
        {{ complete_sum('branches_total') }} as branches_total,
        {{ complete_sum('members_total') }} as members_total,
        {{ complete_sum('members_official') }} as members_official,
        {{ complete_sum('members_probationary') }} as members_probationary,
        {{ complete_sum('admitted') }} as admitted,
        {{ complete_sum('orgs_htxsnv') }} as orgs_htxsnv,
        {{ complete_sum('orgs_httnv') }} as orgs_httnv,
        {{ complete_sum('orgs_htnv') }} as orgs_htnv,
        {{ complete_sum('orgs_khtnv') }} as orgs_khtnv,
        {{ complete_sum('villages_total') }} as villages_total,
        {{ complete_sum('villages_with_branch') }} as villages_with_branch,
        {{ complete_sum('village_branches') }} as village_branches,
        {{ complete_sum('village_branches_with_committee') }} as village_branches_with_committee,
        case
            when count(distinct figures_source) > 1 then 'mixed'
            else any_value(figures_source)
        end as figures_source,
        list_sort(list(submission_id)) as submission_ids
    from committee_totals
    group by province, report_year

),

final as (

    select
        province,
        report_year,
        committees_reporting,
        orgs_total,
        orgs_party_committee,
        orgs_grassroots_branch,
        branches_total,
        members_total,
        members_official,
        members_probationary,
        admitted,
        orgs_htxsnv,
        orgs_httnv,
        orgs_htnv,
        orgs_khtnv,
        villages_total,
        villages_with_branch,
        village_branches,
        village_branches_with_committee,
        round(100.0 * village_branches_with_committee / nullif(village_branches, 0), 1)
            as pct_village_branches_with_committee,
        figures_source,
        -- lineage: the accepted report versions summed here (raw.submissions: file hash, version)
        submission_ids
    from summed

)

select * from final
