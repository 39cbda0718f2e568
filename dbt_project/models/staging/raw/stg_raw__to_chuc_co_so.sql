with

source as (

    select * from {{ source('raw', 'to_chuc_co_so') }}

),

renamed as (

    select
        submission_id,
        try_cast(sheet_row as integer) as sheet_row,
        org_code,
        org_name,
        org_kind,
        sector,
        try_cast(branches_declared as integer) as branches_declared,
        try_cast(members_total as integer) as members_total,
        try_cast(members_official as integer) as members_official,
        try_cast(members_probationary as integer) as members_probationary,
        try_cast(members_female as integer) as members_female,
        try_cast(members_ethnic_minority as integer) as members_ethnic_minority,
        try_cast(admitted as integer) as admitted,
        try_cast(transferred_in as integer) as transferred_in,
        try_cast(transferred_out as integer) as transferred_out,
        try_cast(deceased as integer) as deceased,
        try_cast(struck_off as integer) as struck_off,
        try_cast(expelled_dismissed as integer) as expelled_dismissed,
        org_grade,
        org_grade_label,
        try_cast(members_htxsnv as integer) as members_htxsnv,
        try_cast(members_httnv as integer) as members_httnv,
        try_cast(members_htnv as integer) as members_htnv,
        try_cast(members_khtnv as integer) as members_khtnv,
        try_cast(members_not_rated as integer) as members_not_rated

    from source

)

select * from renamed
