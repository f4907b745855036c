-- No contact whose email or brand carries a hand-off-blocking suppression goes to HubSpot.
with

contacts as (

    select * from {{ ref('sync_hubspot__contacts') }}

),

reasons as (

    select * from {{ ref('suppression_reasons') }}

),

by_email as (

    select
        contacts.email,
        suppression_keys.reason
    from contacts
    inner join {{ ref('stg_suppression__keys') }} as suppression_keys
        on contacts.email = suppression_keys.suppression_key
    where suppression_keys.key_type = 'email'

),

-- a separate equality join, not `or` in one join condition (a nested loop at scale)
by_domain as (

    select
        contacts.email,
        suppression_keys.reason
    from contacts
    inner join {{ ref('stg_suppression__keys') }} as suppression_keys
        on split_part(contacts.email, '@', 2) = suppression_keys.suppression_key
    where suppression_keys.key_type = 'domain'

),

by_brand as (

    select
        contacts.email,
        brand_suppressions.reason
    from contacts
    inner join {{ ref('int_brand_suppressions') }} as brand_suppressions
        on contacts.outreach_brand_id = brand_suppressions.brand_id

),

matches as (

    select * from by_email
    union all
    select * from by_domain
    union all
    select * from by_brand

)

select
    matches.email,
    matches.reason
from matches
inner join reasons
    on matches.reason = reasons.reason
where reasons.blocks_crm_handoff
