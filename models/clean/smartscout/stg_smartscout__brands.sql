-- One row per brand: the latest valid observation, whatever spelling or source it came from.
-- Incremental (docs/incremental.md): a run rebuilds only the brands that have an observation
-- loaded since the last run (minus var smartscout_brand_lookback_days), each from all of its
-- observations, and replaces them on brand_id.
{{
    config(
        materialized='incremental',
        unique_key='brand_id',
        incremental_strategy=incremental_strategy(),
        tmp_relation_type='transient',
        on_schema_change='fail',
        pre_hook=[
            "{{ add_name_normalization_column(also=['dominant_seller_id', 'source_mode']) }}",
            "{{ delete_rows_of_other_name_normalization() }}"
        ]
    )
}}

with

observations as (

    -- valid observations; in an incremental run only those of the brands with an observation
    -- loaded since the last run (all of their observations: a brand is rebuilt whole)
    select * from {{ ref('stg_smartscout__brand_observations') }}
    where
        is_valid
        and {{ key_loaded_since_last_run(
            'brand_id',
            ref('stg_smartscout__brand_observations'),
            var('smartscout_brand_lookback_days'),
            'last_raw_load_id'
        ) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by brand_id
            -- API data before a CSV export of the same moment; record_hash makes ties deterministic;
            -- nulls last explicitly: Snowflake sorts NULLs first in a descending order, DuckDB last
            order by
                fetched_at desc nulls last,
                case when source_kind = 'api' then 0 else 1 end,
                record_hash asc
        ) as recency_rank
    from observations

),

latest_known_seller as (

    select
        brand_id,
        dominant_seller_id,
        row_number() over (
            partition by brand_id order by fetched_at desc nulls last, dominant_seller_id asc
        ) as seller_rank
    from observations
    where dominant_seller_id is not null

),

latest_known_slug as (

    select
        brand_id,
        store_slug,
        row_number() over (
            partition by brand_id order by fetched_at desc nulls last, store_slug asc
        ) as slug_rank
    from observations
    where store_slug is not null

),

history as (

    select
        brand_id,
        min(fetched_at) as first_seen_at,
        count(*) as observation_count,
        count(distinct brand_name) as spelling_count,
        max(raw_load_id) as last_raw_load_id,
        -- live only when every observation of the brand came from a live source
        {{ worst_source_mode('source_mode') }} as source_mode
    from observations
    group by brand_id

),

final as (

    select
        -- ids
        ranked.brand_id,
        ranked.marketplace,
        coalesce(ranked.store_slug, latest_known_slug.store_slug) as store_slug,
        coalesce(ranked.dominant_seller_id, latest_known_seller.dominant_seller_id) as dominant_seller_id,

        -- dimensions
        ranked.brand_name,
        ranked.normalized_brand_name,
        ranked.category_name,
        ranked.subcategory_name,
        ranked.storefront_url,
        coalesce(ranked.has_storefront, ranked.storefront_url is not null) as has_storefront,
        ranked.has_single_seller,

        -- measures
        ranked.monthly_revenue_usd,
        ranked.trailing_12m_revenue_usd,
        ranked.monthly_units_sold,
        ranked.month_growth_pct,
        ranked.year_growth_pct,
        ranked.total_products,
        ranked.total_reviews,
        ranked.review_rating,
        ranked.avg_price_usd,
        ranked.avg_sellers,
        ranked.avg_fba_sellers,
        ranked.amazon_in_stock_rate,
        ranked.smartscout_brand_score,
        ranked.dominant_seller_share_pct,
        history.observation_count,
        history.spelling_count,

        -- lineage
        ranked.record_hash as latest_record_hash,
        ranked.source_kind,
        history.source_mode,
        history.last_raw_load_id,
        -- the name normalization its brand_id comes from (rows of another one are rebuilt)
        {{ name_normalization_fingerprint() }} as name_normalization,

        -- timestamps
        history.first_seen_at,
        ranked.fetched_at as last_seen_at

    from ranked
    inner join history
        on ranked.brand_id = history.brand_id
    left join latest_known_slug
        on
            ranked.brand_id = latest_known_slug.brand_id
            and latest_known_slug.slug_rank = 1
    left join latest_known_seller
        on
            ranked.brand_id = latest_known_seller.brand_id
            and latest_known_seller.seller_rank = 1
    where ranked.recency_rank = 1

)

select * from final
