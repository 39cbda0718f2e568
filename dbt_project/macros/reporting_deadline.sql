{#- Reporting completeness (docs/completeness.md). received_at is stored in UTC; deadlines are
    Vietnamese calendar days (UTC+7, no daylight saving). Override with --vars if ever needed. -#}

{#- The Vietnamese calendar day of a UTC timestamp. -#}
{% macro vietnam_date(utc_timestamp) -%}
    cast({{ utc_timestamp }} + to_hours({{ var('reporting_utc_offset_hours', 7) }}) as date)
{%- endmacro %}

{#- The UTC instant before which a report counts as on time: the end of the deadline day in Vietnam,
    plus var reporting_intake_grace_hours (default 6), because a file dropped in the inbox on the
    deadline evening is only received by the next night's run (02:00). -#}
{% macro on_time_cutoff(deadline) -%}
    cast({{ deadline }} as timestamp) + to_hours(
        24 + {{ var('reporting_intake_grace_hours', 6) }} - {{ var('reporting_utc_offset_hours', 7) }}
    )
{%- endmacro %}
