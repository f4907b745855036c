-- Every key of both suppression seeds must be usable once canonical (macro suppression_list_key_ctes):
-- a brand name or slug that normalizes to something, a plain ASCII address, a dotted domain. A key
-- that matches nothing by construction would give a false sense of safety. A client row needs at
-- least one key. The failing rows are stored (store_failures), so `outreach build` prints their
-- `problem`.
{{ config(store_failures=true) }}

with

{{ suppression_list_key_ctes() }}

key_problems as (

    select
        list_name || ': '
        || case when list_name = 'suppression_list_clients' then entry_label || ' ' else '' end
        || key_type || ' "' || coalesce(key_as_listed, '') || '" ' || key_problem as problem
    from list_keys
    where key_problem is not null

),

empty_clients as (

    select 'suppression_list_clients: a row has no name, store slug, domain, seller id or email' as problem
    from client_rows
    where
        nullif(trim(client_name), '') is null
        and nullif(trim(store_slug), '') is null
        and nullif(trim(domain), '') is null
        and nullif(trim(seller_id), '') is null
        and nullif(trim(email), '') is null

)

select * from key_problems
union all
select * from empty_clients
