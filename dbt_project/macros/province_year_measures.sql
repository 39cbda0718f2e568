{#- The province × year measures, shared by fct_province_year (as reported) and
    fct_province_year_restated: a measure is added here, once, and both views get it. -#}



{#- In a group by of committee totals: the sums (null when a committee cannot give a figure), which
    source the figures came from, and the submissions summed (lineage). -#}
{% macro province_year_sums() -%}
        count(*) as committees_reporting,
        count(*) filter (where is_expected_committee) as committees_expected_reporting,
    {%- for column in summed_counts() %}
        {{ complete_sum(column) }} as {{ column }},
    {%- endfor %}
        case
            when count(distinct figures_source) > 1 then 'mixed'
            else any_value(figures_source)
        end as figures_source,
        list_sort(list(submission_id)) as submission_ids
{%- endmacro %}

{#- In the final select over those sums: the measures in their published order. -#}
{% macro province_year_measures() -%}
        committees_reporting,
        committees_expected,
        committees_expected_reporting,
    {%- for column in summed_counts() %}
        {{ column }},
    {%- endfor %}
        round(100.0 * village_branches_with_committee / nullif(village_branches, 0), 1)
            as pct_village_branches_with_committee,
        figures_source,
        -- lineage: the accepted report versions summed here (raw.submissions: file hash, version)
        submission_ids
{%- endmacro %}

{% macro summed_counts() -%}
    {{ return([
        'orgs_total', 'orgs_party_committee', 'orgs_grassroots_branch', 'branches_total', 'members_total',
        'members_official', 'members_probationary', 'admitted', 'orgs_htxsnv', 'orgs_httnv', 'orgs_htnv',
        'orgs_khtnv', 'orgs_tsvm', 'orgs_yeu_kem', 'villages_total', 'villages_with_branch', 'village_branches', 'village_branches_with_committee'
    ]) }}
{%- endmacro %}

{#- Whether a committee of the committee totals is one of the committees expected to report that year
    (int_admin_units__expected): its key is an administrative unit one level below the province in the report
    year's era. A committee directly under the province, or one that could not be resolved, is not. -#}
{% macro is_expected_committee(committee_key, report_year) -%}
    exists (
        select 1
        from {{ ref('int_admin_units__expected') }} as expected
        where
            expected.unit_key = {{ committee_key }}
            and {{ report_year }} between expected.first_report_year and expected.last_report_year
    )
{%- endmacro %}

{#- How many committees were expected to report for a province and year (số đơn vị phải báo cáo): the units of
    int_admin_units__expected whose column `by` (province_code: as reported; current_province_key: restated) is
    `province`; null when the province is not known. -#}
{% macro committees_expected(province, report_year, by) -%}
    case when {{ province }} is not null then (
        select count(*)
        from {{ ref('int_admin_units__expected') }} as expected
        where
            expected.{{ by }} = {{ province }}
            and {{ report_year }} between expected.first_report_year and expected.last_report_year
    ) end
{%- endmacro %}
