{#- Layers are schemas: models land in the bare layer name (clean, enriched, segmented).
    A dev target can set var `schema_prefix` (e.g. `dev_alice_`) to keep its own copies. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('schema_prefix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix }}{{ target.schema | trim }}
    {%- else -%}
        {{ prefix }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
