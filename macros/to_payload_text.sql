{#- Numbers rendered identically on both warehouses (float-to-text differs between them):
    whole numbers as integers, decimals with a fixed scale. -#}
{% macro whole_number_text(expression) -%}
    cast(cast(round({{ expression }}, 0) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro decimal_text(expression, scale=2) -%}
    cast(cast(round({{ expression }}, {{ scale }}) as decimal(18, {{ scale }})) as {{ dbt.type_string() }})
{%- endmacro %}

{#- ISO-8601 UTC text for a timestamp, e.g. 2026-10-02T14:03:11Z. -#}
{% macro timestamp_iso_text(expression) -%}
    {{ return(adapter.dispatch('timestamp_iso_text', 'brand_outreach')(expression)) }}
{%- endmacro %}

{% macro default__timestamp_iso_text(expression) -%}
    strftime({{ expression }}, '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

{#- Built from date parts rather than to_char(x, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'): the text is the
    same on Snowflake, and the local Snowflake emulator used by the portability tests (fakesnow)
    ignores to_char's format for a column, which would leave this payload field unverified. -#}
{% macro snowflake__timestamp_iso_text(expression) -%}
    {%- set parts = [
        ('year', 4), ("'-'", none), ('month', 2), ("'-'", none), ('day', 2), ("'T'", none),
        ('hour', 2), ("':'", none), ('minute', 2), ("':'", none), ('second', 2), ("'Z'", none)
    ] -%}
    {%- for part, width in parts -%}
        {%- if width is none -%}
            {{ part }}
        {%- else -%}
            lpad(cast({{ part }}({{ expression }}) as varchar), {{ width }}, '0')
        {%- endif -%}
        {%- if not loop.last %} || {% endif -%}
    {%- endfor -%}
{%- endmacro %}
