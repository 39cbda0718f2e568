-- One row per reporting year present, with the grading rule in force and its parameters, and the
-- administrative era (who submits). Everything comes from the contract's and the units' exports
-- (raw.ref_grading_rules, raw.ref_eras): nothing is restated here.

with

counted as (

    select * from {{ ref('int_submissions__counted') }}

),

grading_rules as (

    select * from {{ ref('stg_raw__grading_rules') }}

),

eras as (

    select * from {{ ref('stg_raw__eras') }}

),

years as (

    select distinct report_year
    from counted

),

final as (

    select
        years.report_year,
        grading_rules.grading_rule,
        grading_rules.grading_rule_name,
        grading_rules.org_grade_scale,
        grading_rules.member_htxsnv_cap_ratio,
        grading_rules.member_htxsnv_cap_denominator,
        eras.era,
        eras.submitting_level
    from years
    left join grading_rules
        on years.report_year between grading_rules.first_year and grading_rules.last_year
    left join eras
        on years.report_year between coalesce(eras.first_report_year, 0) and eras.last_report_year

)

select * from final
