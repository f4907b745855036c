-- Leads for Smartlead's `POST /campaigns/{campaign_id}/leads`, one row per lead, shaped like
-- one `lead_list` item. `custom_*` columns become the lead's `custom_fields` (merge tags in
-- the sequences), without the prefix; every value is text, as Smartlead expects.
with

queue as (

    select * from {{ ref('seg_outreach_queue') }}

),

final as (

    select
        -- routing
        queue.campaign_id,
        queue.brand_id,

        -- lead_list item
        queue.email,
        coalesce(queue.first_name, '') as first_name,
        coalesce(queue.last_name, '') as last_name,
        queue.brand_name as company_name,
        coalesce(queue.company_domain, '') as website,
        coalesce(queue.linkedin_url, '') as linkedin_profile,
        coalesce(queue.company_website_url, '') as company_url,

        -- custom_fields
        queue.brand_id as custom_brand_id,
        queue.segment as custom_segment,
        {{ decimal_text('queue.score') }} as custom_score,
        queue.weights_version as custom_weights_version,
        coalesce(queue.category_name, '') as custom_category,
        coalesce({{ whole_number_text('queue.monthly_revenue_usd') }}, '') as custom_monthly_revenue_usd,
        coalesce({{ decimal_text('queue.year_growth_pct', 1) }}, '') as custom_year_growth_pct,
        coalesce(queue.storefront_url, '') as custom_storefront_url

    from queue

)

select * from final
