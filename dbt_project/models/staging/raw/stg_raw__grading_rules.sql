with

source as (

    select * from {{ source('raw', 'ref_grading_rules') }}

),

renamed as (

    select
        grading_rule,
        grading_rule_name,
        try_cast(first_year as integer) as first_year,
        try_cast(last_year as integer) as last_year,
        org_grade_scale,
        org_grades,
        try_cast(member_htxsnv_cap_ratio as decimal(5, 2)) as member_htxsnv_cap_ratio,
        member_htxsnv_cap_denominator

    from source

)

select * from renamed
