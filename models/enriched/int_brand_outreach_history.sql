-- What has already happened with each brand in Smartlead, from the events of its contacts.
with

events as (

    select * from {{ ref('stg_smartlead__events') }}

),

contacts as (

    -- every brand an address was ever found for: an address that Apollo later returns for a
    -- second brand must not make the first brand look never contacted. Matched on the address key:
    -- an email to john+x@acme.com counts for the contact john@acme.com
    select distinct
        brand_id,
        email_key
    from {{ ref('stg_apollo__contact_observations') }}
    where is_valid

),

lead_categories as (

    select * from {{ ref('lead_categories') }}

),

brand_events as (

    select
        contacts.brand_id,
        events.event_id,
        events.email,
        events.event_type,
        events.is_email_sent,
        events.campaign_id,
        events.lead_category_new,
        events.event_at,
        coalesce(lead_categories.is_positive_reply, false) as is_positive_reply
    from events
    inner join contacts
        on {{ email_key_of_canonical('events.email') }} = contacts.email_key
    left join lead_categories
        on events.lead_category_new = lead_categories.category_name

),

latest_category as (

    select
        brand_id,
        lead_category_new as latest_lead_category,
        row_number() over (
            partition by brand_id order by event_at desc, event_id asc
        ) as category_rank
    from brand_events
    where lead_category_new is not null

),

aggregated as (

    select
        brand_id,
        count(*) as event_count,
        sum(case when is_email_sent then 1 else 0 end) as emails_sent,
        sum(case when event_type = 'EMAIL_OPEN' then 1 else 0 end) as opens,
        sum(case when event_type = 'EMAIL_REPLY' then 1 else 0 end) as replies,
        sum(case when is_positive_reply then 1 else 0 end) as positive_replies,
        sum(case when event_type = 'EMAIL_BOUNCE' then 1 else 0 end) as bounces,
        sum(case when event_type = 'LEAD_UNSUBSCRIBED' then 1 else 0 end) as unsubscribes,
        count(distinct campaign_id) as campaign_count,
        min(event_at) as first_contacted_at,
        min(case when event_type = 'EMAIL_REPLY' then event_at end) as first_replied_at,
        min(case when is_positive_reply then event_at end) as first_positive_reply_at,
        max(event_at) as last_event_at
    from brand_events
    group by brand_id

),

final as (

    select
        -- ids
        aggregated.brand_id,

        -- dimensions
        latest_category.latest_lead_category,
        aggregated.replies > 0 as has_replied,
        aggregated.positive_replies > 0 as has_positive_reply,

        -- measures
        aggregated.event_count,
        aggregated.emails_sent,
        aggregated.opens,
        aggregated.replies,
        aggregated.positive_replies,
        aggregated.bounces,
        aggregated.unsubscribes,
        aggregated.campaign_count,

        -- timestamps
        aggregated.first_contacted_at,
        aggregated.first_replied_at,
        aggregated.first_positive_reply_at,
        aggregated.last_event_at

    from aggregated
    left join latest_category
        on
            aggregated.brand_id = latest_category.brand_id
            and latest_category.category_rank = 1

)

select * from final
