-- Grade codes (xếp loại) of both evaluation scales.

with

grades as (

    select * from {{ ref('stg_raw__ref_grades') }}

),

final as (

    select
        grade_code,
        grade_label,
        grade_rank,
        grade_scale
    from grades

)

select * from final
