with

source as (

    select * from {{ source('raw', 'ref_contract_fields') }}

),

renamed as (

    select
        sheet,
        field,
        type as field_type,
        unit,
        try_cast(required as boolean) as is_required,
        part_of,
        detail_sheet,
        detail_aggregate,
        detail_column,
        detail_where_field,
        detail_where_value

    from source

)

select * from renamed
