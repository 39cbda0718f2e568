-- The committee's own totals (tổng hợp), one row per latest accepted report, one column per field.

with

latest as (

    select * from {{ ref('int_submissions__latest_accepted') }}

),

tong_hop as (

    select * from {{ ref('stg_raw__tong_hop') }}

),

accepted_rows as (

    select tong_hop.*
    from tong_hop
    inner join latest
        on tong_hop.submission_id = latest.submission_id

),

pivoted as (

    select
        submission_id,
        {%- set fields = ['orgs_total', 'orgs_party_committee', 'orgs_grassroots_branch', 'branches_total',
                          'members_total', 'admitted', 'villages_total', 'villages_with_branch',
                          'villages_without_members', 'awareness_classes', 'awareness_attendees',
                          'orgs_htxsnv', 'orgs_httnv', 'orgs_htnv', 'orgs_khtnv'] %}
        {%- for field in fields %}
        max(value_integer) filter (where field = '{{ field }}') as {{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from accepted_rows
    group by submission_id

),

final as (

    select
        latest.submission_id,
        latest.committee_key,
        latest.report_year,
        pivoted.* exclude (submission_id)
    from latest
    inner join pivoted
        on latest.submission_id = pivoted.submission_id

)

select * from final
