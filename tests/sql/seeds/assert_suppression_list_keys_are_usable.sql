-- Every suppression_list row must produce a usable key: a brand name that normalizes to
-- something, an email with an @, a domain with a dot. A row that matches nothing would give a
-- false sense of safety.
with

business_list as (

    select * from {{ ref('suppression_list') }}

),

problems as (

    select
        key_type,
        key,
        case
            when key_type = 'brand_name' and {{ normalize_name('key') }} is null
                then 'brand name has no letters or digits'
            when key_type = 'email' and key not like '%_@_%._%' then 'not an email address'
            when key_type = 'domain' and key not like '%_._%' then 'not a domain'
            when key_type = 'store_slug' and trim(key) = '' then 'empty store slug'
        end as problem
    from business_list

)

select * from problems
where problem is not null
