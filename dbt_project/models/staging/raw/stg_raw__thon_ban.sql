with

source as (

    select * from {{ source('raw', 'thon_ban') }}

),

renamed as (

    select
        submission_id,
        try_cast(sheet_row as integer) as sheet_row,
        commune,
        village_name,
        village_kind,
        try_cast(members as integer) as members,
        branch_code,
        try_cast(joint_branch as boolean) as joint_branch

    from source

)

select * from renamed
