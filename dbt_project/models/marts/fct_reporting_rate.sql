-- Reporting rates per province × report_year (DHIS2-style): the share of the expected committees
-- that sent a report, that had one accepted, and that had one accepted on time. Numerators only count
-- expected committees (fct_reporting_status has one row per expected unit), so a rate never exceeds 100.

with

reporting_status as (

    select * from {{ ref('fct_reporting_status') }}

),

counted as (

    select
        province,
        province_code,
        report_year,
        min(deadline) as deadline,
        count(*) as expected,
        count(*) filter (where status <> 'missing') as received,
        count(*) filter (where status in ('on_time', 'late')) as accepted,
        count(*) filter (where status = 'on_time') as on_time,
        count(*) filter (where status = 'late') as late,
        count(*) filter (where status = 'received_not_accepted') as received_not_accepted,
        count(*) filter (where status = 'missing') as missing
    from reporting_status
    group by province, province_code, report_year

),

final as (

    select
        {{ surrogate_key(['province_code', 'report_year']) }} as province_year_id,
        province,
        province_code,
        report_year,
        deadline,
        expected,
        received,
        accepted,
        on_time,
        late,
        received_not_accepted,
        missing,
        round(100.0 * received / expected, 1) as received_rate,
        round(100.0 * accepted / expected, 1) as accepted_rate,
        round(100.0 * on_time / expected, 1) as on_time_rate
    from counted

)

select * from final
