-- Brands worth paying Apollo credits for: in an outreach segment, not suppressed, never
-- contacted, and without a usable contact yet. The enrich stage also skips brands looked
-- up within its TTL (raw.apollo_lookups), so credits are not spent twice.
with

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

final as (

    select
        -- ids
        scores.brand_id,

        -- dimensions
        brands.brand_name,
        brands.normalized_brand_name,
        brands.store_slug,
        -- from an earlier contact (not usable): finds the Apollo organization exactly
        brands.company_domain,
        scores.segment,

        -- measures
        scores.score

    from scores
    inner join brands
        on scores.brand_id = brands.brand_id
    where
        scores.is_outreach_segment
        and not brands.is_suppressed
        and not brands.was_contacted
        and not brands.has_usable_contact

)

select * from final
