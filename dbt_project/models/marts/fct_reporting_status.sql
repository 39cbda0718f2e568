-- Reporting status of every expected committee (province × report_year × unit), like DHIS2's
-- reporting rates per organisation unit. Status, judged on the first accepted submission:
--   on_time                an accepted report received by the deadline
--   late                   an accepted report, but received after the deadline
--   from_history           an accepted report loaded with past years' reports (a history load, see
--                          int_expected_committees__submissions): received after the deadline, but not sent late
--   received_not_accepted  reports received, none accepted (rejected, or not yet validated)
--   missing                nothing received for that unit and year

with

expected_committees as (

    select * from {{ ref('int_expected_committees__submissions') }}

),

classified as (

    select
        *,
        case
            when not has_received then 'missing'
            when not has_accepted then 'received_not_accepted'
            when is_on_time then 'on_time'
            when is_from_history then 'from_history'
            else 'late'
        end as status
    from expected_committees

),

final as (

    select
        expected_committee_year_id,
        province,
        province_code,
        report_year,
        unit_key,
        unit_code,
        unit_name,
        status,
        deadline,
        submissions_received,
        first_received_at,
        first_received_on,
        first_accepted_at,
        first_accepted_on,
        case when status = 'late' then first_accepted_on - deadline end as days_late
    from classified

)

select * from final
