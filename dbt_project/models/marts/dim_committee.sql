-- One row per reporting committee (đảng bộ báo cáo): its latest name, province and level.

with

latest as (

    select * from {{ ref('int_submissions__counted') }}

),

years as (

    select
        committee_key,
        min(report_year) as first_report_year,
        max(report_year) as last_report_year,
        count(*) as years_reported
    from latest
    group by committee_key

),

latest_report as (

    select *
    from latest
    qualify row_number() over (
        partition by committee_key
        order by report_year desc, version desc
    ) = 1

),

final as (

    select
        latest_report.committee_key,
        latest_report.committee_name,
        latest_report.committee_code,
        latest_report.committee_level,
        latest_report.province,
        years.first_report_year,
        years.last_report_year,
        years.years_reported
    from latest_report
    inner join years
        on latest_report.committee_key = years.committee_key

)

select * from final
