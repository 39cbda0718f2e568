-- Subordinate branches (chi bộ trực thuộc) of the latest accepted version of each report.

with

latest as (

    select * from {{ ref('int_submissions__counted') }}

),

branches as (

    select * from {{ ref('stg_raw__chi_bo') }}

),

joined as (

    select
        latest.committee_key,
        latest.report_year,
        latest.province,
        latest.version,
        latest.sha256 as file_sha256,
        branches.*
    from branches
    inner join latest
        on branches.submission_id = latest.submission_id

),

final as (

    select
        {{ surrogate_key(['committee_key', 'report_year', 'branch_code']) }} as branch_year_id,
        {{ surrogate_key(['committee_key', 'report_year', 'parent_org_code']) }} as parent_organisation_year_id,
        {{ is_village_branch('branch_kind') }} as is_village_branch,
        members_total - members_official as members_probationary,
        {{ grading_rule('report_year') }} as grading_rule,
        *
    from joined

)

select * from final
