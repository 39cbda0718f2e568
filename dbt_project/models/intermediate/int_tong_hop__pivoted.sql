-- The committee's own totals (tổng hợp), one row per submission that has a tong_hop sheet, one column per
-- numeric field of the contract's tong_hop (read from raw.ref_contract_fields: a field added to the
-- contract becomes a column here with no second list). Every submission, whatever its outcome: which
-- one counts is int_submissions__counted's business.

with

tong_hop as (

    select * from {{ ref('stg_raw__tong_hop') }}

),

pivoted as (

    select
        submission_id,
        {%- for field in contract_numeric_fields('tong_hop') %}
        max(value_{{ field.type }}) filter (where field = '{{ field.field }}') as {{ field.field }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from tong_hop
    group by submission_id

),

final as (

    select * from pivoted

)

select * from final
