-- Companies for HubSpot's `POST /crm/v3/objects/companies/batch/upsert`, one row per brand
-- handed to the CRM, upserted by the unique custom property `outreach_brand_id` (HubSpot's
-- `domain` is not unique). The reverse ETL associates each contact with its company.
with

handoff as (

    select * from {{ ref('seg_crm_handoff') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

handed_off_brands as (

    select distinct brand_id
    from handoff
    where brand_id is not null

),

final as (

    select
        -- id
        brands.brand_id as outreach_brand_id,

        -- properties
        brands.brand_name as name,
        coalesce(brands.company_domain, '') as domain,
        coalesce(brands.storefront_url, '') as outreach_storefront_url,
        coalesce(brands.category_name, '') as industry_category

    from handed_off_brands
    inner join brands
        on handed_off_brands.brand_id = brands.brand_id

)

select * from final
