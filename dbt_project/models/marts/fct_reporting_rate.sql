-- Reporting rates per province × report_year (DHIS2-style): the share of the expected committees
-- that sent a report, that had one accepted, and that had one accepted on time. Numerators only count
-- expected committees (fct_reporting_status has one row per expected unit), so a rate never exceeds 100.
-- A full grid of the tracked provinces × the tracked report years (those of raw.ref_expected_committees): a
-- province from which nothing arrived has its row (received 0, missing = expected), and a tracked province that
-- did not exist in a year (Yên Bái in 2025, merged into Lào Cai) has one with expected 0 and no rates.
-- from_history: accepted reports loaded with past years' reports, neither on time nor late (fct_reporting_status).

with

reporting_status as (

    select * from {{ ref('fct_reporting_status') }}

),

tracked_provinces as (

    select distinct province
    from reporting_status

),

tracked_years as (

    select
        report_year,
        min(deadline) as deadline
    from reporting_status
    group by report_year

),

grid as (

    select
        tracked_provinces.province,
        tracked_years.report_year,
        tracked_years.deadline
    from tracked_provinces
    cross join tracked_years

),

counted as (

    select
        province,
        province_code,
        report_year,
        min(deadline) as deadline,
        count(*) as expected,
        count(*) filter (where status <> 'missing') as received,
        count(*) filter (where status in ('on_time', 'late', 'from_history')) as accepted,
        count(*) filter (where status = 'on_time') as on_time,
        count(*) filter (where status = 'late') as late,
        count(*) filter (where status = 'from_history') as from_history,
        count(*) filter (where status = 'received_not_accepted') as received_not_accepted,
        count(*) filter (where status = 'missing') as missing
    from reporting_status
    group by province, province_code, report_year

),

filled as (

    select
        grid.province,
        counted.province_code,
        grid.report_year,
        coalesce(counted.deadline, grid.deadline) as deadline,
        coalesce(counted.expected, 0) as expected,
        coalesce(counted.received, 0) as received,
        coalesce(counted.accepted, 0) as accepted,
        coalesce(counted.on_time, 0) as on_time,
        coalesce(counted.late, 0) as late,
        coalesce(counted.from_history, 0) as from_history,
        coalesce(counted.received_not_accepted, 0) as received_not_accepted,
        coalesce(counted.missing, 0) as missing
    from grid
    left join counted
        on grid.province = counted.province
        and grid.report_year = counted.report_year

),

final as (

    select
        {{ surrogate_key(['province', 'report_year']) }} as province_year_id,
        province,
        province_code,
        report_year,
        deadline,
        expected,
        received,
        accepted,
        on_time,
        late,
        from_history,
        received_not_accepted,
        missing,
        round(100.0 * received / nullif(expected, 0), 1) as received_rate,
        round(100.0 * accepted / nullif(expected, 0), 1) as accepted_rate,
        round(100.0 * on_time / nullif(expected, 0), 1) as on_time_rate
    from filled

)

select * from final
