{#- Canonical email, domain, store-slug and seller keys: what suppression compares, in every model and
    in the send-time guard (Python mirror: reverse_etl/canonical_keys.py; a test runs both on
    generated addresses through DuckDB and they must agree). See the `canonical_keys` docs block.

    Email: folded (unicode_fold: NFKC to ASCII, format characters removed), trimmed, trailing dots
    dropped, lower-cased. Valid only as plain ASCII `local@domain.tld` (checked before lower(),
    whose handling of non-ASCII letters differs between warehouses). The matching key also drops
    the local part's `+tag`: a suppressed `john@acme.com` blocks `john+x@acme.com`. -#}

{#- The folded address before lower-casing (validity is checked on it). -#}
{% macro email_folded(expression) -%}
    {{ regexp_replace_all('trim(' ~ unicode_fold(expression) ~ ')', '[.]+$', '') }}
{%- endmacro %}

{#- The address to store and send (the +tag kept). -#}
{% macro canonical_email(expression) -%}
    lower({{ email_folded(expression) }})
{%- endmacro %}

{#- The matching key of an address already canonical (a column built with canonical_email). -#}
{% macro email_key_of_canonical(address) -%}
    split_part(split_part({{ address }}, '@', 1), '+', 1) || '@' || split_part({{ address }}, '@', 2)
{%- endmacro %}

{#- The matching key of any text. -#}
{% macro email_key(expression) -%}
    {{ email_key_of_canonical(canonical_email(expression)) }}
{%- endmacro %}

{#- Why an address cannot be used, NULL when it can. -#}
{% macro email_problem(expression) -%}
    {%- set folded = email_folded(expression) -%}
    case
        when nullif({{ folded }}, '') is null then 'no email revealed'
        when not {{ regexp_full_match(folded, valid_email_pattern()) }} then 'invalid email syntax'
    end
{%- endmacro %}

{#- ASCII only, no leading '+' (its key would have no local part), a dotted domain. -#}
{% macro valid_email_pattern() -%}
    {{ return('[A-Za-z0-9._%-][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}') }}
{%- endmacro %}

{#- Domain: folded, trimmed, trailing dots and a leading '@' or 'www.' dropped; key lower-cased. -#}
{% macro domain_folded(expression) -%}
    {{ regexp_replace_all(
        regexp_replace_all('trim(' ~ unicode_fold(expression) ~ ')', '[.]+$', ''),
        '^(@|[wW]{3}[.])',
        ''
    ) }}
{%- endmacro %}

{% macro canonical_domain(expression) -%}
    lower({{ domain_folded(expression) }})
{%- endmacro %}

{% macro domain_problem(expression) -%}
    {%- set folded = domain_folded(expression) -%}
    case
        when nullif({{ folded }}, '') is null then 'is empty'
        when not {{ regexp_full_match(folded, '[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}') }}
            then 'is not a domain'
    end
{%- endmacro %}

{#- Store slug: Amazon store slugs are the brand name without spaces, so a slug and a brand name
    compare as normalize_name() with the spaces removed ('Iron-Apothecary', 'ironapothecary' and
    the brand 'Iron Apothecary' all give 'ironapothecary'). -#}
{% macro store_slug_key(expression) -%}
    replace({{ normalize_name(expression) }}, ' ', '')
{%- endmacro %}

{#- Seller id (SmartScout's dominantSellerProfileId, an Amazon seller id in a business's list):
    trimmed, lower-cased text. -#}
{% macro seller_id_key(expression) -%}
    lower(nullif(trim({{ expression }}), ''))
{%- endmacro %}
