with

source as (

    select * from {{ source('raw', 'tong_hop') }}

),

renamed as (

    select
        submission_id,
        try_cast(sheet_row as integer) as sheet_row,
        header_as_written,
        field,
        value,
        -- every tong_hop field is an integer count
        try_cast(value as integer) as value_integer

    from source

)

select * from renamed
