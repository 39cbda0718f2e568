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
        try_cast(value as integer) as value_integer,
        try_cast(value as decimal(18, 4)) as value_decimal

    from source

)

select * from renamed
