{#- Sum of a column over a group, or null when any row of the group lacks the value:
    a total must not silently leave out a committee that could not give the figure. -#}
{% macro complete_sum(column) -%}
    case when count({{ column }}) = count(*) then cast(sum({{ column }}) as bigint) end
{%- endmacro %}
