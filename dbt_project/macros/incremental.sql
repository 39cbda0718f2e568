{#- Incremental marts: a night rebuilds only what changed, and `dbt build --full-refresh` rebuilds everything
    (tests/test_incremental_marts.py proves both give identical marts).

    Each incremental mart keeps, in its own rows, which submissions it was built from, and that is the whole
    state: the submission_id of every row of a fact per committee and year, the submission_ids of a province
    and year. A night compares it with the warehouse's one definition of which submission counts
    (int_submissions__counted, through the model's own intermediate): before the model runs, a pre-hook
    deletes the rows built from submissions that no longer count (a newer version, a correction, a held
    report later accepted, a re-decided one); the model then selects only what is counted but not built yet,
    and `delete+insert` on the model's key puts it in. A committee or province year that no longer counts at
    all is deleted and not rebuilt. Rows are a function of their submissions and of the reference tables
    (the contract's grades and rules): when those or the project change, the night rebuilds the marts whole by
    itself (pipeline.nightly.build_marts compares pipeline.dbt_state.marts_fingerprint with the one recorded). -#}


{#- The configuration of a fact per committee and year (committee_key, report_year, submission_id), built from
    the rows of the submissions that count in `counted_rows` (an intermediate joined through
    int_submissions__counted). -#}
{% macro committee_year_incremental(counted_rows) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['committee_key', 'report_year'],
        on_schema_change='fail',
        pre_hook="{{ delete_rows_of_submissions_no_longer_counted('" ~ counted_rows ~ "') }}"
    ) }}
{%- endmacro %}


{#- Pre-hook: rows built from a submission that no longer counts for its committee and year. -#}
{% macro delete_rows_of_submissions_no_longer_counted(counted_rows) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where submission_id not in (select counted.submission_id from {{ ref(counted_rows) }} as counted)
    {%- endif -%}
{%- endmacro %}


{#- In an incremental run, a filter on a relation with a submission_id: only the submissions not built yet
    (after the pre-hook, the counted ones whose rows are not in the mart). -#}
{% macro submissions_not_built(submission_id='submission_id') -%}
    {%- if is_incremental() %}
    where {{ submission_id }} not in (select built.submission_id from {{ this }} as built)
    {%- endif -%}
{%- endmacro %}


{#- The configuration of a fact per province and year (its province column, report_year, submission_ids). -#}
{% macro province_year_incremental(committee_totals, province) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['province', 'report_year'],
        on_schema_change='fail',
        pre_hook="{{ delete_province_years_no_longer_counted('" ~ committee_totals ~ "', '" ~ province ~ "') }}"
    ) }}
{%- endmacro %}


{#- The submissions that count, per province and year: the state a province-year row was built from. -#}
{% macro counted_province_years(committee_totals, province) -%}
    select
        {{ province }} as province,
        report_year,
        list_sort(list(submission_id)) as submission_ids
    from {{ ref(committee_totals) }}
    group by {{ province }}, report_year
{%- endmacro %}


{#- Pre-hook: province-years whose submissions that count are no longer the ones they were built from. -#}
{% macro delete_province_years_no_longer_counted(committee_totals, province) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from ({{ counted_province_years(committee_totals, province) }}) as counted
            where
                counted.province is not distinct from built.province
                and counted.report_year is not distinct from built.report_year
                and counted.submission_ids = built.submission_ids
        )
    {%- endif -%}
{%- endmacro %}


{#- In an incremental run, a filter on committee totals (`totals`, an alias): only the province-years not
    built yet (after the pre-hook, those whose submissions that count changed). -#}
{% macro province_years_not_built(province, totals) -%}
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as built
        where
            built.province is not distinct from {{ province }}
            and built.report_year is not distinct from {{ totals }}.report_year
    )
    {%- endif -%}
{%- endmacro %}
