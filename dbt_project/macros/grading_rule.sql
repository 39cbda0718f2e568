{#- The grading rule in force for a report year: read from the contract's export (raw.ref_grading_rules),
    never restated here. -#}
{% macro grading_rule(year_column) -%}
    (
        select grading_rules.grading_rule
        from {{ ref('stg_raw__grading_rules') }} as grading_rules
        where {{ year_column }} between grading_rules.first_year and grading_rules.last_year
    )
{%- endmacro %}

{#- The administrative era of a report year (raw.ref_eras, from units.admin_units.REFORM_DAY). -#}
{% macro report_era(year_column) -%}
    (
        select eras.era
        from {{ ref('stg_raw__eras') }} as eras
        where {{ year_column }} between coalesce(eras.first_report_year, 0) and eras.last_report_year
    )
{%- endmacro %}
