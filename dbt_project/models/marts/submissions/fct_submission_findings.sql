-- One row per finding (lỗi, cảnh báo) of each submission's latest decision: what validation recorded in
-- raw.validation_failures in the run that made that decision (int_submission_outcomes__latest), history
-- checks and the province reconciliation included. Findings of earlier decisions of the same submission are
-- not repeated. finding_number orders a submission's findings by sheet, row, rule and field.

with

findings as (

    select * from {{ ref('stg_raw__validation_failures') }}

),

latest_outcomes as (

    select * from {{ ref('int_submission_outcomes__latest') }}

),

latest_findings as (

    select
        findings.*,
        latest_outcomes.outcome
    from findings
    inner join latest_outcomes
        on findings.submission_id = latest_outcomes.submission_id
        and findings.run_id = latest_outcomes.run_id

),

numbered as (

    select
        *,
        row_number() over (
            partition by submission_id
            order by sheet, sheet_row nulls first, rule_id, field, value
        ) as finding_number
    from latest_findings

),

final as (

    select
        {{ surrogate_key(['submission_id', 'finding_number']) }} as finding_id,
        submission_id,
        run_id as decided_in_run_id,
        finding_number,
        outcome,
        rule_id,
        severity,
        sheet,
        sheet_row,
        field,
        value,
        message,
        fix
    from numbered

)

select * from final
