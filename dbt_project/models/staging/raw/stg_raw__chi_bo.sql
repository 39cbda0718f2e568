with

source as (

    select * from {{ source('raw', 'chi_bo') }}

),

renamed as (

    select
        submission_id,
        try_cast(sheet_row as integer) as sheet_row,
        parent_org_code,
        branch_code,
        branch_name,
        branch_kind,
        try_cast(has_branch_committee as boolean) as has_branch_committee,
        try_cast(members_total as integer) as members_total,
        try_cast(members_official as integer) as members_official,
        branch_grade,
        branch_grade_label

    from source

)

select * from renamed
