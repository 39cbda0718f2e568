with

source as (

    select * from {{ source('raw', 'ref_grades') }}

),

renamed as (

    select
        code as grade_code,
        label as grade_label,
        try_cast(rank as integer) as grade_rank,
        scale as grade_scale,
        harmonised as harmonised_grade_code,
        try_cast(harmonisation_exact as boolean) as harmonisation_exact

    from source

)

select * from renamed
