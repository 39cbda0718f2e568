-- A submission's figures: one row per readable submission (detailed or aggregate-only), whatever its
-- outcome. The one definition of "what a submission says":
--   * a detailed report's figures are its detail totals (int_submission_detail_totals, as the contract
--     declares them), an aggregate-only report's are its own tổng hợp (figures_source says which);
--   * organisation grade counts cover every grade of every scale; a count is null when the report grades
--     no organisation at all, or when the grade does not exist on the year's scale (HTXSNV in 2016);
--   * figures only the detail sheets can give (official/probationary members, movements, village
--     branches) are null for an aggregate-only report; tổng hợp-only figures come from tổng hợp for both.
-- The marts (through int_committee_year_totals), the history checks and the province reconciliation
-- read it; nothing re-derives these figures elsewhere.
{%- set summary_fields = contract_numeric_fields('tong_hop') %}
{%- set grade_codes = contract_fields('to_chuc_co_so') | selectattr('type', 'equalto', 'grade')
    | map(attribute='field') | list %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}
    where report_kind in ('detailed', 'aggregate_only')

),

grading_rules as (

    select * from {{ ref('stg_raw__grading_rules') }}

),

detail_totals as (

    select * from {{ ref('int_submission_detail_totals') }}

),

tong_hop as (

    select * from {{ ref('int_tong_hop__pivoted') }}

),

organisations as (

    select * from {{ ref('stg_raw__to_chuc_co_so') }}

),

branches as (

    select * from {{ ref('stg_raw__chi_bo') }}

),

organisation_extras as (

    -- figures beyond tổng hợp that only the TCCSĐ rows give
    select
        submission_id,
        cast(sum(members_official) as bigint) as members_official,
        cast(sum(members_probationary) as bigint) as members_probationary,
        cast(sum(members_female) as bigint) as members_female,
        cast(sum(members_ethnic_minority) as bigint) as members_ethnic_minority,
        cast(sum(transferred_in) as bigint) as transferred_in,
        cast(sum(transferred_out) as bigint) as transferred_out,
        cast(sum(deceased) as bigint) as deceased,
        cast(sum(struck_off) as bigint) as struck_off,
        cast(sum(expelled_dismissed) as bigint) as expelled_dismissed,
        {%- for grade_field in grade_codes %}
        count({{ grade_field }}) as {{ grade_field }}_given{% if not loop.last %},{% endif %}
        {%- endfor %}
    from organisations
    group by submission_id

),

branch_extras as (

    select
        submission_id,
        count(*) filter (where {{ is_village_branch('branch_kind') }}) as village_branches,
        count(*) filter (
            where {{ is_village_branch('branch_kind') }} and has_branch_committee
        ) as village_branches_with_committee
    from branches
    group by submission_id

),

with_rule as (

    select
        submissions.submission_id,
        submissions.report_year,
        submissions.report_kind,
        grading_rules.org_grades
    from submissions
    left join grading_rules
        on submissions.report_year between grading_rules.first_year and grading_rules.last_year

),

figures as (

    select
        with_rule.submission_id,
        case when with_rule.report_kind = 'detailed' then 'detail' else 'aggregate' end as figures_source,
        {%- for field in summary_fields %}
        {%- if field.detail_sheet and field.detail_where_field in grade_codes %}
        case
            when with_rule.report_kind = 'aggregate_only' then tong_hop.{{ field.field }}
            when
                coalesce(organisation_extras.{{ field.detail_where_field }}_given, 0) > 0
                and list_contains(with_rule.org_grades, '{{ field.detail_where_value }}')
                then detail_totals.{{ field.field }}
        end as {{ field.field }},
        {%- elif field.detail_sheet %}
        case
            when with_rule.report_kind = 'detailed' then detail_totals.{{ field.field }}
            else tong_hop.{{ field.field }}
        end as {{ field.field }},
        {%- else %}
        tong_hop.{{ field.field }},
        {%- endif %}
        {%- endfor %}
        organisation_extras.members_official,
        organisation_extras.members_probationary,
        organisation_extras.members_female,
        organisation_extras.members_ethnic_minority,
        organisation_extras.transferred_in,
        organisation_extras.transferred_out,
        organisation_extras.deceased,
        organisation_extras.struck_off,
        organisation_extras.expelled_dismissed,
        case when with_rule.report_kind = 'detailed' then coalesce(branch_extras.village_branches, 0) end
            as village_branches,
        case
            when with_rule.report_kind = 'detailed' then coalesce(branch_extras.village_branches_with_committee, 0)
        end as village_branches_with_committee
    from with_rule
    left join detail_totals
        on with_rule.submission_id = detail_totals.submission_id
    left join tong_hop
        on with_rule.submission_id = tong_hop.submission_id
    left join organisation_extras
        on with_rule.submission_id = organisation_extras.submission_id
    left join branch_extras
        on with_rule.submission_id = branch_extras.submission_id

),

final as (

    select * from figures

)

select * from final
