-- Brands ready for a cold email: in a segment that gets outreach, not suppressed for any
-- reason, never contacted before, with a verified and unsuppressed email, mapped to the
-- Smartlead campaign of their segment.
with

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

campaigns as (

    select * from {{ ref('segment_campaigns') }}

),

final as (

    select
        -- ids
        scores.brand_id,
        campaigns.smartlead_campaign_id as campaign_id,
        brands.best_contact_id as contact_id,

        -- dimensions
        scores.segment,
        scores.weights_version,
        campaigns.campaign_name,
        brands.brand_name,
        brands.category_name,
        brands.contact_email as email,
        brands.contact_first_name as first_name,
        brands.contact_last_name as last_name,
        brands.contact_title as title,
        brands.contact_linkedin_url as linkedin_url,
        brands.company_domain,
        brands.company_website_url,
        brands.storefront_url,

        -- measures
        scores.score,
        brands.monthly_revenue_usd,
        brands.year_growth_pct

    from scores
    inner join brands
        on scores.brand_id = brands.brand_id
    inner join campaigns
        on scores.segment = campaigns.segment
    where
        campaigns.is_outreach_enabled
        and campaigns.smartlead_campaign_id is not null
        and not brands.is_suppressed
        and not brands.was_contacted
        and brands.has_usable_contact

)

select * from final
