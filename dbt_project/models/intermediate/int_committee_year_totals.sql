-- One row per committee × year: totals from the detail sheets for detailed reports, and the
-- committee's own tổng hợp figures for aggregate-only reports (figures_source says which).
-- Columns an aggregate-only report cannot give (official/probationary members, village
-- branches) are null for it. Awareness classes only exist in tổng hợp, for both kinds.

with

latest as (

    -- a province's own aggregate report (level "tinh") is reconciled with its committees' reports,
    -- never added to them
    select * from {{ ref('int_submissions__latest_accepted') }}
    where committee_level is distinct from 'tinh'

),

organisations as (

    select * from {{ ref('int_organisations') }}

),

branches as (

    select * from {{ ref('int_branches') }}

),

villages as (

    select * from {{ ref('int_villages') }}

),

tong_hop as (

    select * from {{ ref('int_tong_hop__pivoted') }}

),

organisation_totals as (

    select
        submission_id,
        count(*) as orgs_total,
        count(*) filter (where org_kind = 'dang_bo_co_so') as orgs_party_committee,
        count(*) filter (where org_kind = 'chi_bo_co_so') as orgs_grassroots_branch,
        cast(sum(members_total) as bigint) as members_total,
        cast(sum(members_official) as bigint) as members_official,
        cast(sum(members_probationary) as bigint) as members_probationary,
        cast(sum(admitted) as bigint) as admitted,
        -- no grade reported at all: the breakdown is unknown, not zero;
        -- HTXSNV and KHTNV do not exist on the 2008-2017 scale (TSVM / Yếu kém instead)
        case
            when count(org_grade) > 0 and any_value(report_year) >= 2018
                then count(*) filter (where org_grade = 'HTXSNV')
        end as orgs_htxsnv,
        case when count(org_grade) > 0 then count(*) filter (where org_grade = 'HTTNV') end as orgs_httnv,
        case when count(org_grade) > 0 then count(*) filter (where org_grade = 'HTNV') end as orgs_htnv,
        case
            when count(org_grade) > 0 and any_value(report_year) >= 2018
                then count(*) filter (where org_grade = 'KHTNV')
        end as orgs_khtnv
    from organisations
    group by submission_id

),

branch_totals as (

    select
        submission_id,
        count(*) as branches_total,
        count(*) filter (where is_village_branch) as village_branches,
        count(*) filter (where is_village_branch and has_branch_committee) as village_branches_with_committee
    from branches
    group by submission_id

),

village_totals as (

    select
        submission_id,
        count(*) as villages_total,
        count(*) filter (where has_branch) as villages_with_branch,
        count(*) filter (where has_no_members) as villages_without_members
    from villages
    group by submission_id

),

detail_figures as (

    select
        latest.submission_id,
        'detail' as figures_source,
        coalesce(organisation_totals.orgs_total, 0) as orgs_total,
        coalesce(organisation_totals.orgs_party_committee, 0) as orgs_party_committee,
        coalesce(organisation_totals.orgs_grassroots_branch, 0) as orgs_grassroots_branch,
        coalesce(branch_totals.branches_total, 0) as branches_total,
        organisation_totals.members_total,
        organisation_totals.members_official,
        organisation_totals.members_probationary,
        organisation_totals.admitted,
        organisation_totals.orgs_htxsnv,
        organisation_totals.orgs_httnv,
        organisation_totals.orgs_htnv,
        organisation_totals.orgs_khtnv,
        coalesce(village_totals.villages_total, 0) as villages_total,
        coalesce(village_totals.villages_with_branch, 0) as villages_with_branch,
        coalesce(village_totals.villages_without_members, 0) as villages_without_members,
        coalesce(branch_totals.village_branches, 0) as village_branches,
        coalesce(branch_totals.village_branches_with_committee, 0) as village_branches_with_committee
    from latest
    left join organisation_totals
        on latest.submission_id = organisation_totals.submission_id
    left join branch_totals
        on latest.submission_id = branch_totals.submission_id
    left join village_totals
        on latest.submission_id = village_totals.submission_id
    where latest.report_kind = 'detailed'

),

aggregate_figures as (

    select
        latest.submission_id,
        'aggregate' as figures_source,
        tong_hop.orgs_total,
        tong_hop.orgs_party_committee,
        tong_hop.orgs_grassroots_branch,
        tong_hop.branches_total,
        tong_hop.members_total,
        cast(null as integer) as members_official,
        cast(null as integer) as members_probationary,
        tong_hop.admitted,
        tong_hop.orgs_htxsnv,
        tong_hop.orgs_httnv,
        tong_hop.orgs_htnv,
        tong_hop.orgs_khtnv,
        tong_hop.villages_total,
        tong_hop.villages_with_branch,
        tong_hop.villages_without_members,
        cast(null as integer) as village_branches,
        cast(null as integer) as village_branches_with_committee
    from latest
    left join tong_hop
        on latest.submission_id = tong_hop.submission_id
    where latest.report_kind = 'aggregate_only'

),

figures as (

    select * from detail_figures
    union all by name
    select * from aggregate_figures

),

final as (

    select
        latest.committee_year_id,
        latest.committee_key,
        latest.report_year,
        latest.province,
        latest.committee_level,
        latest.submission_id,
        latest.version,
        latest.report_kind,
        figures.figures_source,
        figures.orgs_total,
        figures.orgs_party_committee,
        figures.orgs_grassroots_branch,
        figures.branches_total,
        figures.members_total,
        figures.members_official,
        figures.members_probationary,
        figures.admitted,
        figures.orgs_htxsnv,
        figures.orgs_httnv,
        figures.orgs_htnv,
        figures.orgs_khtnv,
        figures.villages_total,
        figures.villages_with_branch,
        figures.villages_without_members,
        figures.village_branches,
        figures.village_branches_with_committee,
        tong_hop.awareness_classes,
        tong_hop.awareness_attendees
    from latest
    inner join figures
        on latest.submission_id = figures.submission_id
    left join tong_hop
        on latest.submission_id = tong_hop.submission_id

)

select * from final
