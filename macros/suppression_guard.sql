{#- Body of the singular suppression tests (tests/sql/segmented/): the rows of a queue or sync
    model that a suppression key matches, one row per (record, matching key).

    Matched by the brand (int_brand_suppressions: brand name, store slug, seller id, contact
    domains and emailed addresses), by the email's canonical key, by the email's domain, and by
    each company-domain column (canonical).
    One equality join per kind of key, unioned: a single join on `a or b` is a nested loop
    (rows x keys), which took minutes at a million brands.

    blocking_only: count only the reasons that also block the CRM hand-off (seed
    suppression_reasons, column blocks_crm_handoff: clients, do-not-contact, unsubscribes, bounces,
    complaints). For models of people who replied positively, who were contacted by definition:
    `previously_contacted` is expected there. -#}
{% macro suppressed_rows(
    model,
    record_column,
    brand_column=none,
    email_column=none,
    domain_columns=[],
    blocking_only=false
) %}
    {%- set key_matches = [] -%}
    {%- if email_column -%}
        {#- canonical keys (macros/canonical_keys.sql), whatever the model wrote: a row's address
            matches the key of any of its variants (+tag, case, trailing dot, format characters) -#}
        {%- do key_matches.append(('email', email_key('guarded_rows.' ~ email_column), 'email')) -%}
        {%- do key_matches.append((
            'email_domain', "split_part(" ~ email_key('guarded_rows.' ~ email_column) ~ ", '@', 2)", 'domain'
        )) -%}
    {%- endif -%}
    {%- for domain_column in domain_columns -%}
        {%- do key_matches.append((domain_column, canonical_domain('guarded_rows.' ~ domain_column), 'domain')) -%}
    {%- endfor %}

with

guarded_rows as (

    select * from {{ model }}

),

suppression_keys as (

    select * from {{ ref('stg_suppression__keys') }}

),

brand_suppressions as (

    select * from {{ ref('int_brand_suppressions') }}

),

suppression_reasons as (

    select * from {{ ref('suppression_reasons') }}

),

matches as (

    {% if brand_column -%}
        select
            guarded_rows.{{ record_column }} as record_key,
            'brand' as matched_by,
            brand_suppressions.suppression_key,
            brand_suppressions.reason
        from guarded_rows
        inner join brand_suppressions
            on guarded_rows.{{ brand_column }} = brand_suppressions.brand_id
        {{ 'union all' if key_matches }}
    {% endif -%}
    {%- for label, expression, key_type in key_matches %}
        select
            guarded_rows.{{ record_column }} as record_key,
            '{{ label }}' as matched_by,
            suppression_keys.suppression_key,
            suppression_keys.reason
        from guarded_rows
        inner join suppression_keys
            on {{ expression }} = suppression_keys.suppression_key
        where suppression_keys.key_type = '{{ key_type }}'
        {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select
    matches.record_key,
    matches.matched_by,
    matches.suppression_key,
    matches.reason
from matches
inner join suppression_reasons
    on matches.reason = suppression_reasons.reason
{% if blocking_only -%}
    where suppression_reasons.blocks_crm_handoff
{%- endif %}
{% endmacro %}
