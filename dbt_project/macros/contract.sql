{#- The submission contract as the warehouse holds it (raw.ref_contract_fields, exported from
    contract/contract.yaml): the fields of a sheet, in contract order, as dicts. Read at run time, so a
    field added to the contract reaches the models with no second list; empty while dbt only parses.
    The table is named, not source()d: unit tests compile models against the real reference table. -#}
{% macro contract_fields(sheet) -%}
    {%- set fields = [] -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select field, type, unit, part_of, detail_sheet, detail_aggregate, detail_column, "
            ~ "detail_where_field, detail_where_value, detail_any_of from raw.ref_contract_fields"
            ~ " where sheet = '" ~ sheet ~ "' order by rowid"
        ) -%}
        {%- for row in result.rows -%}
            {%- do fields.append({
                'field': row[0], 'type': row[1], 'unit': row[2], 'part_of': row[3], 'detail_sheet': row[4],
                'detail_aggregate': row[5], 'detail_column': row[6], 'detail_where_field': row[7],
                'detail_where_value': row[8], 'detail_any_of': row[9].split(',') if row[9] else []
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(fields) }}
{%- endmacro %}

{#- The numeric fields of a key/value sheet (tong_hop): what int_tong_hop__pivoted turns into columns. -#}
{% macro contract_numeric_fields(sheet) -%}
    {{ return(contract_fields(sheet) | selectattr('type', 'in', ['integer', 'decimal']) | list) }}
{%- endmacro %}

{#- A tong_hop total recomputed from a detail sheet, as the contract declares it (detail: sheet, aggregate,
    column, where, any_of: rows where one of these fields is given, a text filled in or a yes answered). Used in
    a group by submission_id over that sheet's staging model. -#}
{% macro detail_aggregate(field) -%}
    {%- set filter -%}
        {%- if field.detail_where_field -%}
            cast({{ field.detail_where_field }} as varchar) = '{{ field.detail_where_value }}'
        {%- else -%}
            true
        {%- endif -%}
        {%- if field.detail_any_of %} and {{ any_given(field.detail_any_of) }}{% endif -%}
    {%- endset -%}
    {%- if field.detail_aggregate == 'sum' -%}
        cast(sum({{ field.detail_column }}) filter (where {{ filter }}) as bigint)
    {%- elif field.detail_aggregate == 'count' -%}
        count(*) filter (where {{ filter }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown detail aggregate " ~ field.detail_aggregate ~ " of " ~ field.field) }}
    {%- endif -%}
{%- endmacro %}

{#- Rows where at least one of these columns is given: a text filled in, a yes/no answered yes (a detail
    declaration's any_of). -#}
{% macro any_given(columns) -%}
    {%- if columns -%}
        ({% for name in columns %}coalesce(cast({{ name }} as varchar) not in ('', 'false'), false)
        {%- if not loop.last %} or {% endif %}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- The any_of of a contract field's detail declaration (tong_hop.villages_with_branch: what gives a village
    a branch). -#}
{% macro contract_detail_any_of(sheet, field_name) -%}
    {%- set found = contract_fields(sheet) | selectattr('field', 'equalto', field_name) | list -%}
    {{ return(found[0].detail_any_of if found else []) }}
{%- endmacro %}
