-- One row per committee × report_year of int_committee_year_totals, restated onto today's (2025+)
-- province. How each row finds its current province (restated_by), first match wins:
--   unit_key             the committee_key is an administrative unit (pre-2025 district or province,
--                        2025+ commune or province): through the crosswalks, a 2025+ unit to its own province
--   province_code        the province code intake resolved (raw.submissions.province_code) in the report
--                        year's era: a committee directly under the province that is not an administrative
--                        unit ('pre-2025:direct:14:quan-su'), or one whose own name could not be resolved
--                        ('lao-cai/xyz') in a province that could. Keys and names are never parsed or folded
--                        here: that is Python's (units.keys, units.committee.province_code_of_report)
--   unmapped             none of these: current_province_* are null
-- Province as reported is kept in reported_province.

with

committee_totals as (

    select * from {{ ref('int_committee_year_totals') }}

),

admin_units as (

    select * from {{ ref('stg_raw__admin_units') }}

),

unit_provinces as (

    select * from {{ ref('int_admin_units__current_province') }}

),

committees as (

    select
        committee_totals.*,
        {{ report_era('committee_totals.report_year') }} as report_era
    from committee_totals

),

code_matches as (

    select
        committees.committee_year_id,
        admin_units.unit_key
    from committees
    inner join admin_units
        on admin_units.level = 'province'
        and committees.report_era = admin_units.era
        and committees.province_code = admin_units.code

),

restated as (

    select
        committees.*,
        case
            when by_unit.unit_key is not null then 'unit_key'
            when by_key_province.unit_key is not null then 'province_code'
            else 'unmapped'
        end as restated_by,
        coalesce(by_unit.current_province_key, by_key_province.current_province_key) as current_province_key,
        coalesce(by_unit.current_province_code, by_key_province.current_province_code) as current_province_code,
        coalesce(by_unit.current_province, by_key_province.current_province) as current_province
    from committees
    left join unit_provinces as by_unit
        on committees.committee_key = by_unit.unit_key
    left join code_matches
        on committees.committee_year_id = code_matches.committee_year_id
    left join unit_provinces as by_key_province
        on code_matches.unit_key = by_key_province.unit_key

),

final as (

    select
        committee_year_id,
        committee_key,
        report_year,
        province as reported_province,
        current_province_key,
        current_province_code,
        current_province,
        restated_by,
        committee_level,
        submission_id,
        version,
        report_kind,
        figures_source,
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
        orgs_tsvm,
        orgs_yeu_kem,
        villages_total,
        villages_with_branch,
        villages_without_members,
        village_branches,
        village_branches_with_committee,
        awareness_classes,
        awareness_attendees
    from restated

)

select * from final
