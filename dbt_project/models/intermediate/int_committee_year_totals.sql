-- One row per committee × year: the figures (int_submission_figures) of the submission that counts
-- (int_submissions__counted). figures_source says whether they are detail totals or the committee's own
-- tổng hợp. A province's own aggregate report (level "tinh") is reconciled with its committees' reports,
-- never added to them.

with

counted as (

    select * from {{ ref('int_submissions__counted') }}
    where committee_level is distinct from 'tinh'

),

figures as (

    select * from {{ ref('int_submission_figures') }}

),

final as (

    select
        counted.committee_year_id,
        counted.committee_key,
        counted.report_year,
        counted.province,
        counted.province_code,
        counted.committee_level,
        counted.submission_id,
        counted.version,
        counted.report_kind,
        figures.* exclude (figures.submission_id)
    from counted
    inner join figures
        on counted.submission_id = figures.submission_id

)

select * from final
