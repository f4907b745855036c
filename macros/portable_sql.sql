{#- Dialect differences live here, behind adapter.dispatch, so models stay identical on
    DuckDB (default__) and Snowflake (snowflake__). -#}

{#- Replace every match. DuckDB replaces only the first match unless given the 'g' flag;
    Snowflake replaces all matches by default. -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'brand_outreach')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro snowflake__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- First capture group of a pattern, NULL when it does not match. -#}
{% macro regexp_extract_group(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_extract_group', 'brand_outreach')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_extract_group(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro snowflake__regexp_extract_group(expression, pattern) -%}
    nullif(regexp_substr({{ expression }}, '{{ pattern }}', 1, 1, 'e', 1), '')
{%- endmacro %}

{#- True when the whole string matches the pattern. -#}
{% macro regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'brand_outreach')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro snowflake__regexp_full_match(expression, pattern) -%}
    regexp_like({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{#- An 8-byte float on both warehouses (dbt.type_float() is 4 bytes on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'brand_outreach')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro snowflake__type_double() -%}
    float
{%- endmacro %}

{#- Text from RAW to a type; anything unparseable becomes NULL (callers quarantine it).
    `try_cast` from text behaves the same on DuckDB and Snowflake (dbt-duckdb's
    dbt.safe_cast is a plain cast, which fails the whole model on one bad value). -#}
{% macro try_cast_text(expression, data_type) -%}
    try_cast(nullif(trim({{ expression }}), '') as {{ data_type }})
{%- endmacro %}

{#- An underscore never reaches the cast: DuckDB reads '1_000' as 1000, Snowflake as no number;
    a separator is not guessed at on either (the row is quarantined). -#}
{% macro text_to_double(expression) -%}
    {{ try_cast_text("replace(" ~ expression ~ ", '_', ' ')", type_double()) }}
{%- endmacro %}

{% macro text_to_bigint(expression) -%}
    {{ try_cast_text(expression, dbt.type_bigint()) }}
{%- endmacro %}

{#- Text to a timestamp (wall-clock time; an offset is ignored on both warehouses).
    DuckDB parses ISO-8601 text only. Snowflake's automatic format detection also turns other
    text into a timestamp (epoch seconds such as '1730800000', other date layouts), so on
    Snowflake only ISO-8601-shaped text reaches the cast and the same rows are NULL (quarantined)
    on both. The guard also keeps fakesnow working: it runs Snowflake's try_cast to a timestamp
    as a plain cast, so unparseable text like 'yesterday' would fail the whole model there. -#}
{% macro text_to_timestamp(expression) -%}
    {{ return(adapter.dispatch('text_to_timestamp', 'brand_outreach')(expression)) }}
{%- endmacro %}

{% macro default__text_to_timestamp(expression) -%}
    {{ try_cast_text(expression, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro snowflake__text_to_timestamp(expression) -%}
    {%- set iso_8601 = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
        ~ '([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?' -%}
    case
        when {{ regexp_full_match('trim(' ~ expression ~ ')', iso_8601) }}
            then {{ try_cast_text(expression, dbt.type_timestamp()) }}
    end
{%- endmacro %}

{#- Text flags as sent by the APIs and CSV exports; anything else is NULL. -#}
{% macro text_to_boolean(expression) -%}
    case
        when lower(trim({{ expression }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ expression }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- Why a measure cast from RAW text cannot be used, as `when ... then` branches of a reason's
    case (none: it can). Not a number ('12,5' gets its own reason: a comma that may be a decimal
    comma is not guessed), not finite ('NaN', 'inf', '1e400': both warehouses cast them to
    NaN/infinity, and one such value makes min-max scaling NaN for every brand), or beyond
    `max_measure_magnitude` (differences of such values overflow in scaling). `x - x = 0` is false
    for NaN and both infinities on DuckDB and Snowflake alike. -#}
{% macro measure_rejection_reasons(name, text_expression, typed_expression) -%}
    when
        {{ is_unparseable(text_expression, typed_expression) }}
        and {{ regexp_full_match('trim(' ~ text_expression ~ ')', '[$(+-]*[ $]*[0-9]+([.,][0-9]+)*,[0-9]+[%)]*') }}
        then '{{ name }} has an ambiguous separator (a comma not grouping thousands)'
    when {{ is_unparseable(text_expression, typed_expression) }}
        then '{{ name }} is not a number'
    when not ({{ typed_expression }} - {{ typed_expression }} = 0)
        then '{{ name }} is not a finite number'
    when abs({{ typed_expression }}) > {{ max_measure_magnitude() }}
        then '{{ name }} is out of range (beyond {{ max_measure_magnitude() }})'
{%- endmacro %}

{#- No SmartScout measure comes near it (revenue is below 1e12); far enough from the float limit
    that sums and differences of measures stay finite. -#}
{% macro max_measure_magnitude() -%}
    1e15
{%- endmacro %}

{#- True when the finite value can be scaled: NULL for NULL, false for NaN, infinities and values
    beyond `max_measure_magnitude` (guards scaling against whatever reaches it). -#}
{% macro is_scalable_number(expression) -%}
    ({{ expression }} - {{ expression }} = 0 and abs({{ expression }}) <= {{ max_measure_magnitude() }})
{%- endmacro %}

{#- True when a text looks like a web address (`https://www.amazon.com/stores/...`,
    `amazon.com/stores/...`): a storefront cell is its URL, not a yes/no. -#}
{% macro is_url_text(expression) -%}
    {{ regexp_full_match(
        'lower(trim(' ~ expression ~ '))',
        '(https?://)?[a-z0-9.-]+[.][a-z]{2,}([/?#][^[:space:]]*)?'
    ) }}
{%- endmacro %}

{#- True when a non-empty text value did not survive the cast: the row is malformed. -#}
{% macro is_unparseable(text_expression, typed_expression) -%}
    (nullif(trim({{ text_expression }}), '') is not null and {{ typed_expression }} is null)
{%- endmacro %}

{#- Any value, typed or text, to a type; NULL when it does not fit (callers quarantine it).
    Not dbt.safe_cast: dbt-duckdb's is a plain cast (one bad value fails the whole model) and
    Snowflake's try_cast only takes text; going through text works on both. -#}
{% macro try_cast_value(expression, data_type) -%}
    try_cast(cast({{ expression }} as {{ dbt.type_string() }}) as {{ data_type }})
{%- endmacro %}
