-- The business suppression lists, one row per key of an entry, canonical (macros/canonical_keys.sql).
-- Two shapes are accepted: `suppression_list` (one key per row: key_type, key) and
-- `suppression_list_clients` (one row per client: name, store slug, domain, seller id, email;
-- each filled column becomes a key of that entry). An entry is one seed row; exact duplicate rows
-- are one entry. A key that cannot be used carries its problem (assert_suppression_list_keys_are_usable).
with

{{ suppression_list_key_ctes() }}

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat(['entry_id', "'|'", 'key_type'])) }} as list_key_id,
        entry_id,
        key_type,
        suppression_key,

        -- dimensions
        list_name,
        entry_label,
        key_as_listed,
        reason,
        list_name || ':' || coalesce(source, 'unknown') as source,
        key_problem,

        -- timestamps
        cast(added_on as {{ dbt.type_timestamp() }}) as added_at

    from list_keys

)

select * from final
