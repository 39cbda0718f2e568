-- A detailed submission's tổng hợp figures recomputed from its detail sheets, exactly as the contract
-- declares them (tong_hop fields with `detail:` — sheet, aggregate, column, filter — exported to
-- raw.ref_contract_fields). One row per detailed submission, whatever its outcome. Validation's
-- "tổng hợp = chi tiết" rule and the marts both read these figures.
{%- set detail_fields = contract_fields('tong_hop') | selectattr('detail_sheet') | list %}
{%- set detail_sheets = ['to_chuc_co_so', 'chi_bo', 'thon_ban'] %}
{%- for field in detail_fields if field.detail_sheet not in detail_sheets %}
    {{ exceptions.raise_compiler_error("detail sheet " ~ field.detail_sheet ~ " of " ~ field.field ~ " is not read here") }}
{%- endfor %}

with

submissions as (

    select * from {{ ref('stg_raw__submissions') }}
    where report_kind = 'detailed'

),

to_chuc_co_so as (

    select * from {{ ref('stg_raw__to_chuc_co_so') }}

),

chi_bo as (

    select * from {{ ref('stg_raw__chi_bo') }}

),

thon_ban as (

    select * from {{ ref('stg_raw__thon_ban') }}

),
{% for sheet in detail_sheets %}
{{ sheet }}_totals as (

    select
        submission_id,
        {%- for field in detail_fields if field.detail_sheet == sheet %}
        {{ detail_aggregate(field) }} as {{ field.field }},
        {%- endfor %}
        count(*) as sheet_rows
    from {{ sheet }}
    group by submission_id

),
{% endfor %}
final as (

    select
        submissions.submission_id,
        {%- for field in detail_fields %}
        {#- a sheet with no row counts 0; a sum over no value stays unknown #}
        {%- if field.detail_aggregate == 'sum' %}
        {{ field.detail_sheet }}_totals.{{ field.field }},
        {%- else %}
        coalesce({{ field.detail_sheet }}_totals.{{ field.field }}, 0) as {{ field.field }},
        {%- endif %}
        {%- endfor %}
        coalesce(to_chuc_co_so_totals.sheet_rows, 0) as organisation_rows,
        coalesce(chi_bo_totals.sheet_rows, 0) as branch_rows,
        coalesce(thon_ban_totals.sheet_rows, 0) as village_rows
    from submissions
    {% for sheet in detail_sheets -%}
    left join {{ sheet }}_totals
        on submissions.submission_id = {{ sheet }}_totals.submission_id
    {% endfor %}

)

select * from final
