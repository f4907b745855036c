-- One row per brand: its facts, its best usable decision-maker, its outreach history and
-- whether (and why) it must not be contacted.
with

brands as (

    select * from {{ ref('stg_smartscout__brands') }}

),

contacts as (

    select * from {{ ref('int_contacts_ranked') }}

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

outreach_history as (

    select * from {{ ref('int_brand_outreach_history') }}

),

suppressed_emails as (

    select distinct suppression_key as email
    from suppression_keys
    where key_type = 'email'

),

eligible_contacts as (

    -- an address that bounced, unsubscribed, ... is never the one we pick, nor any +tag variant
    -- of it (suppression keys and email_key are canonical: macros/canonical_keys.sql)
    select
        contacts.*,
        row_number() over (
            partition by contacts.brand_id order by contacts.brand_contact_rank
        ) as eligible_rank
    from contacts
    left join suppressed_emails
        on contacts.email_key = suppressed_emails.email
    where suppressed_emails.email is null

),

best_contact as (

    select * from eligible_contacts
    where eligible_rank = 1

),

suppression_summary as (

    select
        brand_suppressions.brand_id,
        count(*) as suppression_match_count,
        min(suppression_reasons.priority) as top_priority,
        {{ dbt.listagg('distinct brand_suppressions.reason', "', '", 'order by brand_suppressions.reason') }}
            as suppression_reasons
    from brand_suppressions
    inner join suppression_reasons
        on brand_suppressions.reason = suppression_reasons.reason
    group by brand_suppressions.brand_id

),

final as (

    select
        -- ids
        brands.brand_id,
        brands.marketplace,
        brands.store_slug,
        best_contact.contact_id as best_contact_id,

        -- brand dimensions
        brands.brand_name,
        brands.normalized_brand_name,
        brands.category_name,
        brands.subcategory_name,
        brands.storefront_url,
        brands.has_storefront,

        -- brand measures
        brands.monthly_revenue_usd,
        brands.trailing_12m_revenue_usd,
        brands.month_growth_pct,
        brands.year_growth_pct,
        brands.total_reviews,
        brands.review_rating,
        brands.avg_sellers,
        brands.smartscout_brand_score,

        -- best contact
        best_contact.email as contact_email,
        best_contact.first_name as contact_first_name,
        best_contact.last_name as contact_last_name,
        best_contact.title as contact_title,
        best_contact.email_status as contact_email_status,
        best_contact.contact_rank,
        best_contact.linkedin_url as contact_linkedin_url,
        coalesce(best_contact.organization_domain, best_contact.email_domain) as company_domain,
        best_contact.organization_website_url as company_website_url,
        coalesce(best_contact.is_email_verified, false) as has_usable_contact,

        -- suppression
        suppression_summary.brand_id is not null as is_suppressed,
        top_reason.reason as primary_suppression_reason,
        suppression_summary.suppression_reasons,

        -- outreach history
        outreach_history.brand_id is not null as was_contacted,
        coalesce(outreach_history.emails_sent, 0) as emails_sent,
        coalesce(outreach_history.replies, 0) as replies,
        coalesce(outreach_history.positive_replies, 0) as positive_replies,
        outreach_history.latest_lead_category,

        -- timestamps
        brands.first_seen_at,
        brands.last_seen_at,
        outreach_history.first_contacted_at,
        outreach_history.first_replied_at,
        outreach_history.first_positive_reply_at,
        outreach_history.last_event_at

    from brands
    left join best_contact
        on brands.brand_id = best_contact.brand_id
    left join suppression_summary
        on brands.brand_id = suppression_summary.brand_id
    left join suppression_reasons as top_reason
        on suppression_summary.top_priority = top_reason.priority
    left join outreach_history
        on brands.brand_id = outreach_history.brand_id

)

select * from final
