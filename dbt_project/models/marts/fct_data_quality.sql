-- Which rules fail most, per province and year: one row per province × report year × rule,
-- over every submission version validated (rejected ones included: this is about data quality,
-- not about what reached the other marts).

with

rule_results as (

    select * from {{ ref('stg_raw__rule_results') }}

),

submissions as (

    select * from {{ ref('stg_raw__submissions') }}

),

results_with_province as (

    select
        coalesce(submissions.province, '(chưa xác định)') as province,
        submissions.report_year,
        rule_results.rule_id,
        rule_results.severity,
        rule_results.status,
        rule_results.failed_rows,
        rule_results.submission_id
    from rule_results
    inner join submissions
        on rule_results.submission_id = submissions.submission_id

),

-- first per submission (a submission validated by several runs has a result of each), then per province, year
-- and rule: the same counts as count(distinct submission_id), without its cost on a national history
per_submission as (

    select
        province,
        report_year,
        rule_id,
        submission_id,
        max(severity) filter (where status = 'fail') as severity,
        bool_or(status = 'fail') as is_failing,
        sum(failed_rows) as rows_failing
    from results_with_province
    group by province, report_year, rule_id, submission_id

),

aggregated as (

    select
        province,
        report_year,
        rule_id,
        max(severity) as severity,
        count(*) as submissions_checked,
        count(*) filter (where is_failing) as submissions_failing,
        coalesce(sum(rows_failing), 0) as rows_failing
    from per_submission
    group by province, report_year, rule_id

),

final as (

    select
        {{ surrogate_key(['province', 'report_year', 'rule_id']) }} as data_quality_id,
        province,
        report_year,
        rule_id,
        severity,
        submissions_checked,
        submissions_failing,
        round(100.0 * submissions_failing / submissions_checked, 1) as failing_rate,
        rows_failing
    from aggregated

)

select * from final
