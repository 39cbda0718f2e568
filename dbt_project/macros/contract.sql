{#- The submission contract as the warehouse holds it (raw.ref_contract_fields, exported from
    contract/contract.yaml): the fields of a sheet, in contract order, as dicts. Read at run time, so a
    field added to the contract reaches the models with no second list; empty while dbt only parses.
    The table is named, not source()d: unit tests compile models against the real reference table. -#}
{% macro contract_fields(sheet) -%}
    {%- set fields = [] -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select field, type, unit, part_of, detail_sheet, detail_aggregate, detail_column, "
            ~ "detail_where_field, detail_where_value from raw.ref_contract_fields"
            ~ " where sheet = '" ~ sheet ~ "' order by rowid"
        ) -%}
        {%- for row in result.rows -%}
            {%- do fields.append({
                'field': row[0], 'type': row[1], 'unit': row[2], 'part_of': row[3], 'detail_sheet': row[4],
                'detail_aggregate': row[5], 'detail_column': row[6], 'detail_where_field': row[7],
                'detail_where_value': row[8]
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
    column, where). Used in a group by submission_id over that sheet's staging model. -#}
{% macro detail_aggregate(field) -%}
    {%- set filter -%}
        {%- if field.detail_where_field -%}
            cast({{ field.detail_where_field }} as varchar) = '{{ field.detail_where_value }}'
        {%- else -%}
            true
        {%- endif -%}
    {%- endset -%}
    {%- if field.detail_aggregate == 'sum' -%}
        cast(sum({{ field.detail_column }}) filter (where {{ filter }}) as bigint)
    {%- elif field.detail_aggregate == 'count_with_branch' -%}
        count(*) filter (where ({{ filter }}) and (branch_code is not null or coalesce(joint_branch, false)))
    {%- elif field.detail_aggregate == 'count' -%}
        count(*) filter (where {{ filter }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown detail aggregate " ~ field.detail_aggregate ~ " of " ~ field.field) }}
    {%- endif -%}
{%- endmacro %}
