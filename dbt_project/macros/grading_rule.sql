{#- The evaluation rule in force for a reporting year (see docs/domain glossary). -#}
{% macro grading_rule(year_column) -%}
    case
        when {{ year_column }} between 2008 and 2017 then 'HD-20/27'
        when {{ year_column }} between 2018 and 2024 then 'QD-132/124'
        when {{ year_column }} >= 2025 then 'QD-366'
    end
{%- endmacro %}

{#- The organisation grade scale of a reporting year, as in ref_grades.scale. -#}
{% macro grade_scale(year_column) -%}
    case
        when {{ year_column }} between 2008 and 2017 then '2008-2017'
        when {{ year_column }} >= 2018 then '2018+'
    end
{%- endmacro %}
