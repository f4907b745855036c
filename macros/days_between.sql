{#- Days from `start` to `end`, to one decimal (counted in minutes: dbt.datediff in days counts
    midnights crossed, so a reply one hour after a 23:30 email would be a day). With
    null_if_reversed, NULL when `end` is before `start` (data that disagrees with the funnel's
    order, e.g. events older than the brand's first SmartScout load) rather than a negative time. -#}
{% macro days_between(start, end, null_if_reversed=false) -%}
    {%- if null_if_reversed -%}
        case when {{ end }} >= {{ start }} then round({{ dbt.datediff(start, end, 'minute') }} / 1440.0, 1) end
    {%- else -%}
        round({{ dbt.datediff(start, end, 'minute') }} / 1440.0, 1)
    {%- endif -%}
{%- endmacro %}
