-- Grade codes (xếp loại) of both evaluation scales, with the harmonised grade on the 2018+ scale
-- (documented mapping in contract/contract.yaml; harmonisation_exact is false where scales differ).

with

grades as (

    select * from {{ ref('stg_raw__ref_grades') }}

),

final as (

    select
        grade_code,
        grade_label,
        grade_rank,
        grade_scale,
        harmonised_grade_code,
        harmonisation_exact
    from grades

)

select * from final
