-- Every suppression_list row must produce a usable key: a brand name that normalizes to
-- something, an email with an @, a domain with a dot. A row that matches nothing would give a
-- false sense of safety. The failing rows are stored (store_failures), so `outreach build` prints
-- their `problem`.
{{ config(store_failures=true) }}

with

business_list as (

    select * from {{ ref('suppression_list') }}

),

checked as (

    select
        key_type,
        key,
        case
            when key_type = 'brand_name' and {{ normalize_name('key') }} is null
                then 'has no letters or digits'
            when key_type = 'email' and key not like '%_@_%._%' then 'is not an email address'
            when key_type = 'domain' and key not like '%_._%' then 'is not a domain'
            when key_type = 'store_slug' and trim(key) = '' then 'is empty'
        end as key_problem
    from business_list

)

select
    key_type,
    key,
    'suppression_list: ' || key_type || ' "' || coalesce(key, '') || '" ' || key_problem as problem
from checked
where key_problem is not null
