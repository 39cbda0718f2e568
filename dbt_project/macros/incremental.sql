{#- Incremental marts: a night rebuilds only what changed, and `dbt build --full-refresh` rebuilds everything
    (tests/test_incremental_marts.py proves both give identical marts).

    Each incremental mart keeps, in its own rows, what it was built from, and that is the whole state: the
    submission_id and its approval_state (committee_year_state) of every row of a fact per committee and year;
    the submission_ids, committees_approved and province_locked (province_year_state) of a province and year.
    The approval is part of the state because staff approve or return a report without changing which
    submission it is. A night compares the state with the warehouse's one definition of which submission
    counts and its approval (int_submissions__counted): before the model runs, a pre-hook deletes the rows
    whose state is no longer the counted one (a newer version, a correction, a held report later accepted, a
    re-decided one, an approval, a lock or an unlock); the model then selects only what is counted but not
    built yet, and `delete+insert` on the model's key puts it in. A committee or province year that no longer
    counts at all is deleted and not rebuilt. Rows are a function of their state and of the reference tables
    (the contract's grades and rules): when those or the project change, the night rebuilds the marts whole by
    itself (pipeline.nightly.build_marts compares pipeline.dbt_state.marts_fingerprint with the one recorded). -#}


{#- The state of a row of a fact per committee and year: columns of int_submissions__counted that the row
    carries as they are there. -#}
{% macro committee_year_state() -%}
    {{ return(['submission_id', 'approval_state']) }}
{%- endmacro %}


{#- The configuration of a fact per committee and year (committee_key, report_year, and its state: the columns of
    committee_year_state), built from the rows of the submissions that count. -#}
{% macro committee_year_incremental() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['committee_key', 'report_year'],
        on_schema_change='fail',
        pre_hook="{{ delete_rows_no_longer_counted() }}"
    ) }}
{%- endmacro %}


{#- Pre-hook: rows built from a submission that no longer counts for its committee and year, or whose approval
    changed since. -#}
{% macro delete_rows_no_longer_counted() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from {{ ref('int_submissions__counted') }} as counted
            where
            {%- for column in committee_year_state() %}
                {{ 'and ' if not loop.first }}counted.{{ column }} = built.{{ column }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- In an incremental run, a filter on a relation with a submission_id: only the submissions not built yet
    (after the pre-hook, the counted ones whose rows are not in the mart). -#}
{% macro submissions_not_built(submission_id='submission_id') -%}
    {%- if is_incremental() %}
    where {{ submission_id }} not in (select built.submission_id from {{ this }} as built)
    {%- endif -%}
{%- endmacro %}


{#- The configuration of a fact per province and year (its province column, report_year, and its state: the columns
    of province_year_state). `province` is an expression over `committee_totals` (an alias of the model
    `committee_totals`), qualified: int_submissions__counted has a province column too. -#}
{% macro province_year_incremental(committee_totals, province) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['province', 'report_year'],
        on_schema_change='fail',
        pre_hook="{{ delete_province_years_no_longer_counted('" ~ committee_totals ~ "', '" ~ province ~ "') }}"
    ) }}
{%- endmacro %}


{#- The approval of a province and year, in a group by of committee totals with the approval_state and
    province_locked of int_submissions__counted (of the relation `counted`, an alias, when given): how many
    committees' counted reports the staff approved, and whether every one is in a locked province × report year
    (chốt số liệu). Part of the state, and columns of both province-year marts. -#}
{% macro province_year_approval(counted='') -%}
    {%- set of = counted ~ '.' if counted else '' -%}
        count(*) filter (where {{ of }}approval_state = 'approved') as committees_approved,
        bool_and({{ of }}province_locked) as province_locked
{%- endmacro %}


{#- The state of a province-year row: the submissions that count and their approval, per province and year. -#}
{% macro province_year_state() -%}
    {{ return(['submission_ids', 'committees_approved', 'province_locked']) }}
{%- endmacro %}


{#- The state each province-year should have now, from the submissions that count. -#}
{% macro counted_province_years(committee_totals, province) -%}
    select
        {{ province }} as province,
        committee_totals.report_year,
        list_sort(list(committee_totals.submission_id)) as submission_ids,
        {{ province_year_approval('counted') }}
    from {{ ref(committee_totals) }} as committee_totals
    inner join {{ ref('int_submissions__counted') }} as counted
        on committee_totals.submission_id = counted.submission_id
    group by {{ province }}, committee_totals.report_year
{%- endmacro %}


{#- Pre-hook: province-years whose state (province_year_state) is no longer the one they were built from. -#}
{% macro delete_province_years_no_longer_counted(committee_totals, province) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built
        where not exists (
            select 1
            from ({{ counted_province_years(committee_totals, province) }}) as counted
            where
                counted.province is not distinct from built.province
                and counted.report_year is not distinct from built.report_year
            {%- for column in province_year_state() %}
                and counted.{{ column }} is not distinct from built.{{ column }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- In an incremental run, a filter on committee totals (`totals`, an alias): only the province-years not
    built yet (after the pre-hook, those whose state changed). -#}
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
