-- No suppressed email, and no address at a suppressed domain, is in the Smartlead payload.
with

leads as (

    select * from {{ ref('sync_smartlead__leads') }}

),

suppression_keys as (

    select * from {{ ref('stg_suppression__keys') }}

)

select
    leads.email,
    suppression_keys.key_type,
    suppression_keys.reason
from leads
inner join suppression_keys
    on
        (suppression_keys.key_type = 'email' and leads.email = suppression_keys.suppression_key)
        or (
            suppression_keys.key_type = 'domain'
            and split_part(leads.email, '@', 2) = suppression_keys.suppression_key
        )
