-- One row per reporting year present, with the evaluation rule in force.

with

latest as (

    select * from {{ ref('int_submissions__latest_accepted') }}

),

years as (

    select distinct report_year
    from latest

),

with_rule as (

    select
        report_year,
        {{ grading_rule('report_year') }} as grading_rule,
        {{ grade_scale('report_year') }} as org_grade_scale
    from years

),

final as (

    select
        report_year,
        grading_rule,
        case grading_rule
            when 'HD-20/27' then 'Hướng dẫn 20-HD/BTCTW (2008), 27-HD/BTCTW (2014)'
            when 'QD-132/124' then 'Quy định 132-QĐ/TW (2018), 124-QĐ/TW (2023)'
            when 'QD-366' then 'Quy định 366-QĐ/TW (2025)'
        end as grading_rule_name,
        org_grade_scale,
        case
            {%- for rule, ratio in var('member_htxsnv_cap_by_rule').items() %}
            when grading_rule = '{{ rule }}' then cast({{ ratio }} as decimal(5, 2))
            {%- endfor %}
        end as member_htxsnv_cap_ratio,
        case when report_year >= 2025 then 'xa' else 'huyen' end as submitting_level
    from with_rule

)

select * from final
