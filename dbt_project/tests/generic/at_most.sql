{#- No value of the column is above the given SQL expression (a number or another column); nulls pass. -#}
{% test at_most(model, column_name, maximum) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} > {{ maximum }}

{% endtest %}
