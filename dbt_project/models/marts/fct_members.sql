-- Members (đảng viên) per grassroots organisation (TCCSĐ) and year; detailed reports only, with the staff's
-- approval of the report (approval_state, int_submissions__counted).
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

branches as (

    select * from {{ ref('int_branches') }}
    {{- submissions_not_built() }}

),

branches_listed as (

    select
        parent_organisation_year_id as organisation_year_id,
        count(*) as branches_listed
    from branches
    group by parent_organisation_year_id

),

final as (

    select
        organisations.organisation_year_id,
        organisations.organisation_id,
        organisations.committee_key,
        organisations.report_year,
        organisations.province,
        organisations.org_code,
        organisations.org_name,
        organisations.org_kind,
        organisations.sector,
        organisations.branches_declared,
        coalesce(branches_listed.branches_listed, 0) as branches_listed,
        organisations.members_total,
        organisations.members_official,
        organisations.members_probationary,
        organisations.members_female,
        organisations.members_ethnic_minority,
        organisations.admitted,
        organisations.transferred_in,
        organisations.transferred_out,
        organisations.deceased,
        organisations.struck_off,
        organisations.expelled_dismissed,
        counted.approval_state,
        organisations.submission_id,
        organisations.version,
        organisations.file_sha256,
        'to_chuc_co_so' as source_sheet,
        organisations.sheet_row
    from organisations
    inner join counted
        on organisations.submission_id = counted.submission_id
    left join branches_listed
        on organisations.organisation_year_id = branches_listed.organisation_year_id

)

select * from final
