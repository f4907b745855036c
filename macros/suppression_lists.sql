{#- The business suppression lists unpivoted into canonical keys, as CTEs to paste into a `with`
    list (ending with a comma): the last one, `list_keys`, has one row per key of an entry with
    entry_id, list_name, entry_label, key_type, key_as_listed, suppression_key, key_problem,
    reason, source and added_on. Shared by stg_suppression__list_keys and the seed test
    assert_suppression_list_keys_are_usable, which must read seeds only (it runs with the seeds,
    before any model). Two shapes: `suppression_list` (one key per row) and
    `suppression_list_clients` (one row per client; each filled column is one key). -#}
{% macro suppression_list_key_ctes() %}
key_rows as (

    select * from {{ ref('suppression_list') }}

),

client_rows as (

    select * from {{ ref('suppression_list_clients') }}

),

key_entries as (

    select distinct
        {{ dbt.hash(dbt.concat([
            "'suppression_list'", "'|'", "coalesce(key_type, '')", "'|'", "coalesce(key, '')", "'|'",
            "coalesce(reason, '')", "'|'", "coalesce(source, '')", "'|'",
            "coalesce(cast(added_on as " ~ dbt.type_string() ~ "), '')"
        ])) }} as entry_id,
        'suppression_list' as list_name,
        key_type || ' "' || coalesce(key, '') || '"' as entry_label,
        key_type,
        key as key_as_listed,
        reason,
        source,
        added_on
    from key_rows

),

client_entries as (

    select distinct
        {{ dbt.hash(dbt.concat([
            "'suppression_list_clients'", "'|'", "coalesce(client_name, '')", "'|'",
            "coalesce(store_slug, '')", "'|'", "coalesce(domain, '')", "'|'",
            "coalesce(seller_id, '')", "'|'", "coalesce(email, '')", "'|'",
            "coalesce(reason, '')", "'|'", "coalesce(source, '')", "'|'",
            "coalesce(cast(added_on as " ~ dbt.type_string() ~ "), '')"
        ])) }} as entry_id,
        'client "' || coalesce(
            nullif(trim(client_name), ''),
            nullif(trim(store_slug), ''),
            nullif(trim(domain), ''),
            nullif(trim(seller_id), ''),
            nullif(trim(email), ''),
            ''
        ) || '"' as entry_label,
        client_name,
        store_slug,
        domain,
        seller_id,
        email,
        reason,
        source,
        added_on
    from client_rows

),

client_keys as (

    -- unpivot: each filled column of a client row is one key
    {%- for column, key_type in [
        ('client_name', 'brand_name'),
        ('store_slug', 'store_slug'),
        ('domain', 'domain'),
        ('seller_id', 'seller_id'),
        ('email', 'email'),
    ] %}
        select
            entry_id,
            'suppression_list_clients' as list_name,
            entry_label,
            '{{ key_type }}' as key_type,
            {{ column }} as key_as_listed,
            reason,
            source,
            added_on
        from client_entries
        where nullif(trim({{ column }}), '') is not null
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

unioned as (

    select * from key_entries
    union all
    select * from client_keys

),

canonical as (

    select
        *,
        case key_type
            when 'brand_name' then {{ normalize_name('key_as_listed') }}
            when 'store_slug' then {{ store_slug_key('key_as_listed') }}
            when 'seller_id' then {{ seller_id_key('key_as_listed') }}
            when 'email' then {{ email_key('key_as_listed') }}
            when 'domain' then {{ canonical_domain('key_as_listed') }}
        end as suppression_key,
        case key_type
            when 'email' then {{ email_problem('key_as_listed') }}
            when 'domain' then {{ domain_problem('key_as_listed') }}
        end as key_syntax_problem
    from unioned

),

list_keys as (

    select
        *,
        case
            when nullif(trim(key_as_listed), '') is null then 'is empty'
            when key_type = 'email' and key_syntax_problem is not null then 'is not an email address'
            when key_type = 'domain' and key_syntax_problem is not null then 'is not a domain'
            when nullif(suppression_key, '') is null then 'has no letters or digits'
        end as key_problem
    from canonical

),
{% endmacro %}
