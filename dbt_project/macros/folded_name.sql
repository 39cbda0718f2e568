{#- A name compared without case, diacritics, spacing or punctuation, and without a leading "Tỉnh" /
    "Thành phố" / "TP.": 'Tỉnh  Lào Cai' → 'laocai' (like units.admin_units.folded_key for a province).
    strip_accents leaves đ alone, so it is replaced first. -#}
{% macro folded_province_name(column) -%}
    regexp_replace(
        regexp_replace(strip_accents(replace(lower({{ column }}), 'đ', 'd')), '[^a-z0-9]', '', 'g'),
        '^(tinh|thanhpho|tp)(.)', '\2'
    )
{%- endmacro %}
