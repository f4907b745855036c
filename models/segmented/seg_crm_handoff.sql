-- People who replied positively (per the lead_categories seed) and go to the CRM, unless a
-- suppression that blocks the hand-off (client, do-not-contact, unsubscribe, ...) applies to
-- them or their brand. Having been contacted before does not block it. A reply from an address
-- we have no Apollo contact for still goes, without brand facts, rather than being dropped.
with

events as (

    select * from {{ ref('stg_smartlead__events') }}

),

lead_categories as (

    select * from {{ ref('lead_categories') }}

),

contacts as (

    select * from {{ ref('stg_apollo__contacts') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

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

positive_events as (

    select
        events.email,
        events.event_at,
        events.lead_category_new,
        min(events.event_at) over (partition by events.email) as first_positive_reply_at,
        row_number() over (
            partition by events.email order by events.event_at desc, events.event_id asc
        ) as recency_rank
    from events
    inner join lead_categories
        on events.lead_category_new = lead_categories.category_name
    where lead_categories.is_positive_reply

),

positive_replies as (

    -- first positive reply time, latest positive category
    select
        email,
        first_positive_reply_at as positive_reply_at,
        lead_category_new as lead_category
    from positive_events
    where recency_rank = 1

),

blocked_emails as (

    select distinct suppression_keys.suppression_key as email
    from suppression_keys
    inner join suppression_reasons
        on suppression_keys.reason = suppression_reasons.reason
    where suppression_keys.key_type = 'email' and suppression_reasons.blocks_crm_handoff

),

blocked_domains as (

    select distinct suppression_keys.suppression_key as blocked_domain
    from suppression_keys
    inner join suppression_reasons
        on suppression_keys.reason = suppression_reasons.reason
    where suppression_keys.key_type = 'domain' and suppression_reasons.blocks_crm_handoff

),

blocked_brands as (

    select distinct brand_suppressions.brand_id
    from brand_suppressions
    inner join suppression_reasons
        on brand_suppressions.reason = suppression_reasons.reason
    where suppression_reasons.blocks_crm_handoff

),

final as (

    select
        -- ids
        positive_replies.email,
        contacts.brand_id,
        contacts.contact_id,

        -- dimensions
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        brands.brand_name,
        coalesce(contacts.organization_domain, split_part(positive_replies.email, '@', 2)) as company_domain,
        contacts.organization_website_url as company_website_url,
        positive_replies.lead_category,
        scores.segment,
        scores.weights_version,

        -- measures
        scores.score,
        brands.monthly_revenue_usd,

        -- timestamps
        positive_replies.positive_reply_at

    from positive_replies
    left join contacts
        on positive_replies.email = contacts.email
    left join brands
        on contacts.brand_id = brands.brand_id
    left join scores
        on contacts.brand_id = scores.brand_id
    -- event addresses are canonical; the key drops the +tag (a blocked address blocks its variants)
    left join blocked_emails
        on {{ email_key_of_canonical('positive_replies.email') }} = blocked_emails.email
    left join blocked_brands
        on contacts.brand_id = blocked_brands.brand_id
    left join blocked_domains
        on split_part(positive_replies.email, '@', 2) = blocked_domains.blocked_domain
    where
        blocked_emails.email is null
        and blocked_domains.blocked_domain is null
        and blocked_brands.brand_id is null

)

select * from final
