-- Restating moves committees between provinces, never adds or drops one: per report year, the
-- committees counted in fct_province_year_restated equal those in fct_province_year (as reported).

with

as_reported as (

    select
        report_year,
        sum(committees_reporting) as committees
    from {{ ref('fct_province_year') }}
    group by report_year

),

restated as (

    select
        report_year,
        sum(committees_reporting) as committees
    from {{ ref('fct_province_year_restated') }}
    group by report_year

),

final as (

    select
        coalesce(as_reported.report_year, restated.report_year) as report_year,
        as_reported.committees as committees_as_reported,
        restated.committees as committees_restated
    from as_reported
    full outer join restated
        on as_reported.report_year = restated.report_year
    where as_reported.committees is distinct from restated.committees

)

select * from final
