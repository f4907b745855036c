{% macro source_mode(relation, qualifier='') -%}
    {#- Where each RAW row came from: `live` or `sample` (the column `_source_mode` the loaders
        stamp on every row), `unknown` for a row loaded before they did, or for a RAW table
        created before the column existed and not loaded since (docs/raw_layer.md). -#}
    {%- set present = false -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set present = '_source_mode' in names -%}
    {%- endif -%}
    {%- if present -%}
        coalesce({{ qualifier }}_source_mode, 'unknown')
    {%- else -%}
        cast('unknown' as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{% macro worst_source_mode(column) -%}
    {#- For an entity built from several RAW rows (an aggregate): `live` only when every row is
        live, else `sample` when any row is, else `unknown`. -#}
    case
        when max(case when {{ column }} = 'sample' then 1 else 0 end) = 1 then 'sample'
        when max(case when {{ column }} = 'live' then 0 else 1 end) = 1 then 'unknown'
        else 'live'
    end
{%- endmacro %}
