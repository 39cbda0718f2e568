{#- A village or residential-group branch (chi bộ thôn, tổ dân phố): the branches whose share with a branch
    committee (chi ủy) is tracked. One definition, for int_branches and int_submission_figures. -#}
{% macro is_village_branch(kind_column) -%}
    {{ kind_column }} in ('thon', 'to_dan_pho')
{%- endmacro %}
