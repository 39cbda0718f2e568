-- Villages and residential groups (thôn, bản, tổ dân phố) of the latest accepted version of each report.

with

latest as (

    select * from {{ ref('int_submissions__counted') }}

),

villages as (

    select * from {{ ref('stg_raw__thon_ban') }}

),

joined as (

    select
        latest.committee_key,
        latest.report_year,
        latest.province,
        latest.version,
        latest.sha256 as file_sha256,
        villages.*
    from villages
    inner join latest
        on villages.submission_id = latest.submission_id

),

final as (

    select
        {{ surrogate_key(['committee_key', 'report_year', 'commune', 'village_name']) }} as village_year_id,
        {{ any_given(contract_detail_any_of('tong_hop', 'villages_with_branch')) }} as has_branch,
        members = 0 as has_no_members,
        *
    from joined

)

select * from final
