-- TCCSĐ rows of the latest accepted version of each report, with committee and year.

with

latest as (

    select * from {{ ref('int_submissions__counted') }}

),

organisations as (

    select * from {{ ref('stg_raw__to_chuc_co_so') }}

),

joined as (

    select
        latest.committee_key,
        latest.report_year,
        latest.province,
        latest.version,
        latest.sha256 as file_sha256,
        organisations.*
    from organisations
    inner join latest
        on organisations.submission_id = latest.submission_id

),

final as (

    select
        {{ surrogate_key(['committee_key', 'report_year', 'org_code']) }} as organisation_year_id,
        {{ surrogate_key(['committee_key', 'org_code']) }} as organisation_id,
        {{ grading_rule('report_year') }} as grading_rule,
        *
    from joined

)

select * from final
