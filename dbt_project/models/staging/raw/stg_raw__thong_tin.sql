with

source as (

    select * from {{ source('raw', 'thong_tin') }}

),

renamed as (

    select
        submission_id,
        try_cast(sheet_row as integer) as sheet_row,
        header_as_written,
        field,
        value

    from source

)

select * from renamed
