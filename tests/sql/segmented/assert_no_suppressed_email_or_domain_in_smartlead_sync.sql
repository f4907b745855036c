-- No suppressed email, and no address at a suppressed domain, is in the Smartlead payload.
-- Two equality joins, not one join on `a or b`: an OR condition makes a nested loop
-- (leads x suppression keys), which took minutes at a million brands.
with

leads as (

    select * from {{ ref('sync_smartlead__leads') }}

),

suppression_keys as (

    select * from {{ ref('stg_suppression__keys') }}

),

by_email as (

    select
        leads.email,
        suppression_keys.key_type,
        suppression_keys.reason
    from leads
    inner join suppression_keys
        on leads.email = suppression_keys.suppression_key
    where suppression_keys.key_type = 'email'

),

by_domain as (

    select
        leads.email,
        suppression_keys.key_type,
        suppression_keys.reason
    from leads
    inner join suppression_keys
        on split_part(leads.email, '@', 2) = suppression_keys.suppression_key
    where suppression_keys.key_type = 'domain'

)

select * from by_email
union all
select * from by_domain
