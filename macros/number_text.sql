{#- A number as short text for messages (the `problem` column of the seed tests): whole numbers
    without decimals ("43"), others with a fixed scale ("43.50"); the same text on both warehouses
    (float-to-text differs between them). -#}
{% macro number_text(expression, scale=2) -%}
    case
        when {{ expression }} = round({{ expression }}, 0) then {{ whole_number_text(expression) }}
        else {{ decimal_text(expression, scale) }}
    end
{%- endmacro %}
