-- fct_reporting_rate has a row for every tracked province × tracked report year (the provinces and years of the
-- committees expected to report), whether or not anything arrived, and its expected count is theirs.

with

expected as (

    select * from {{ ref('stg_raw__expected_committees') }}

),

rates as (

    select * from {{ ref('fct_reporting_rate') }}

),

tracked_provinces as (

    select distinct province
    from expected

),

tracked_years as (

    select distinct report_year
    from expected

),

grid as (

    select
        tracked_provinces.province,
        tracked_years.report_year,
        count(expected.unit_key) as expected
    from tracked_provinces
    cross join tracked_years
    left join expected
        on tracked_provinces.province = expected.province
        and tracked_years.report_year = expected.report_year
    group by tracked_provinces.province, tracked_years.report_year

),

differing as (

    select
        grid.province,
        grid.report_year,
        grid.expected,
        rates.expected as expected_in_mart
    from grid
    left join rates
        on grid.province = rates.province
        and grid.report_year = rates.report_year
    where rates.expected is distinct from grid.expected

)

select * from differing
