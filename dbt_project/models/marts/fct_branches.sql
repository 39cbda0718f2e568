-- Subordinate branches (chi bộ trực thuộc) per year; detailed reports only, with the staff's approval of the
-- report (approval_state, int_submissions__counted).
-- Incremental per committee and year: a night adds only the submissions that newly count or whose approval
-- changed (macros/incremental.sql).

{{ committee_year_incremental() }}

with

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

branches as (

    select * from {{ ref('int_branches') }}
    {{- submissions_not_built() }}

),

villages as (

    select * from {{ ref('int_villages') }}
    {{- submissions_not_built() }}

),

villages_linked as (

    select
        submission_id,
        branch_code,
        count(*) as villages_linked
    from villages
    where branch_code is not null
    group by submission_id, branch_code

),

final as (

    select
        branches.branch_year_id,
        branches.committee_key,
        branches.report_year,
        branches.province,
        branches.parent_organisation_year_id,
        branches.parent_org_code,
        branches.branch_code,
        branches.branch_name,
        branches.branch_kind,
        branches.is_village_branch,
        branches.has_branch_committee,
        branches.members_total,
        branches.members_official,
        branches.members_probationary,
        coalesce(villages_linked.villages_linked, 0) as villages_linked,
        branches.grading_rule,
        branches.branch_grade,
        branches.branch_grade_label,
        counted.approval_state,
        branches.submission_id,
        branches.version,
        branches.file_sha256,
        'chi_bo' as source_sheet,
        branches.sheet_row
    from branches
    inner join counted
        on branches.submission_id = counted.submission_id
    left join villages_linked
        on branches.submission_id = villages_linked.submission_id
        and branches.branch_code = villages_linked.branch_code

)

select * from final
