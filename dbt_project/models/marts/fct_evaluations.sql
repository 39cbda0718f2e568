-- Evaluation (đánh giá, xếp loại) per grassroots organisation (TCCSĐ) and year:
-- the organisation's grade as reported, with its rule, and the member grade counts.
-- With the staff's approval of the report (approval_state, int_submissions__counted).
-- Incremental per committee and year: a night adds only the submissions that newly count or whose approval
-- changed (macros/incremental.sql).

{{ committee_year_incremental() }}

with

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

organisations as (

    select * from {{ ref('int_organisations') }}
    {{- submissions_not_built() }}

),

years as (

    select * from {{ ref('dim_year') }}

),

grades as (

    select * from {{ ref('dim_grade') }}

),

joined as (

    select
        organisations.*,
        years.org_grade_scale as year_grade_scale,
        years.member_htxsnv_cap_ratio,
        years.member_htxsnv_cap_denominator,
        grades.grade_rank as org_grade_rank,
        grades.grade_scale as org_grade_scale,
        grades.harmonised_grade_code as org_grade_harmonised,
        grades.harmonisation_exact as org_grade_harmonisation_exact,
        counted.approval_state
    from organisations
    inner join counted
        on organisations.submission_id = counted.submission_id
    left join years
        on organisations.report_year = years.report_year
    left join grades
        on organisations.org_grade = grades.grade_code

),

final as (

    select
        organisation_year_id,
        organisation_id,
        committee_key,
        report_year,
        province,
        org_code,
        org_name,
        org_kind,
        grading_rule,
        org_grade,
        org_grade_label,
        org_grade_rank,
        org_grade_harmonised,
        -- false where the old and new scales do not correspond one to one (TSVM, Yếu kém): see dim_grade
        org_grade_harmonisation_exact,
        case
            when org_grade is null then null
            else org_grade_scale in ('both', year_grade_scale)
        end as org_grade_fits_rule,
        members_total,
        members_htxsnv,
        members_httnv,
        members_htnv,
        members_khtnv,
        members_not_rated,
        case
            when coalesce(members_htxsnv, members_httnv, members_htnv, members_khtnv) is not null
                then
                    coalesce(members_htxsnv, 0) + coalesce(members_httnv, 0)
                    + coalesce(members_htnv, 0) + coalesce(members_khtnv, 0)
        end as members_rated,
        -- the cap of the year's grading rule: ratio × its denominator column (raw.ref_grading_rules)
        case
            when member_htxsnv_cap_ratio is not null and members_htxsnv is not null
                then members_htxsnv > member_htxsnv_cap_ratio * coalesce(
                    case member_htxsnv_cap_denominator
                        {%- for field in contract_fields('to_chuc_co_so') if field.type == 'integer' %}
                        when '{{ field.field }}' then {{ field.field }}
                        {%- endfor %}
                    end, 0
                )
        end as members_htxsnv_over_cap,
        approval_state,
        submission_id,
        version,
        file_sha256,
        'to_chuc_co_so' as source_sheet,
        sheet_row
    from joined

)

select * from final
