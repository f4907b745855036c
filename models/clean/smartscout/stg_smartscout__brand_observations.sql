-- Every RAW brand observation, typed and normalized, with the reason it cannot be used (if any).
-- Downstream, good rows become stg_smartscout__brands and the rest the quarantine.
-- Incremental (docs/incremental.md): a run reads the RAW rows loaded since the last one (minus
-- var smartscout_brand_lookback_days) and upserts them on record_hash. Rows made with another name
-- normalization (column name_normalization) are deleted first, so a new one rebuilds from all of RAW.
{{
    config(
        materialized='incremental',
        unique_key='record_hash',
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

source as (

    select * from {{ source('smartscout', 'smartscout_brands') }}
    where {{ loaded_since_last_run(raw_load_id_number('_dlt_load_id'), var('smartscout_brand_lookback_days')) }}

),

-- one row per record_hash: a load replayed after a crash can append a RAW row twice (the same
-- content under the same key); the copies are one observation, so keep the latest load's
deduplicated as (

    select * from (
        select
            *,
            row_number() over (partition by record_hash order by _dlt_load_id desc) as copy_number
        from source
    ) as copies
    where copy_number = 1

),

typed as (

    select
        -- ids
        record_hash,
        upper(coalesce(nullif(trim(marketplace), ''), '{{ var("default_marketplace") }}')) as marketplace,
        {{ regexp_extract_group('storefront_url', '/stores/([^/?#]+)') }} as store_slug_raw,
        -- SmartScout's dominantSellerProfileId (in the published schema, unlike storefrontUrl):
        -- a suppression key (seller_id)
        {{ seller_id_key('dominant_seller_profile_id') }} as dominant_seller_id,

        -- dimensions
        brand_name,
        {{ normalize_name('brand_name') }} as normalized_brand_name,
        nullif(trim(category_name), '') as category_name,
        nullif(trim(subcategory_name), '') as subcategory_name,
        nullif(trim(storefront_url), '') as storefront_url,
        {{ text_to_boolean('has_storefront') }} as has_storefront,
        {{ text_to_boolean('has_single_seller') }} as has_single_seller,

        -- measures
        {{ text_to_double('monthly_revenue') }} as monthly_revenue_usd,
        {{ text_to_double('trailing12_months') }} as trailing_12m_revenue_usd,
        {{ text_to_double('monthly_units_sold') }} as monthly_units_sold,
        {{ text_to_double('month_growth') }} as month_growth_pct,
        {{ text_to_double('month_growth12') }} as year_growth_pct,
        {{ text_to_double('total_products') }} as total_products,
        {{ text_to_double('total_reviews') }} as total_reviews,
        {{ text_to_double('review_rating') }} as review_rating,
        {{ text_to_double('avg_price') }} as avg_price_usd,
        {{ text_to_double('avg_sellers') }} as avg_sellers,
        {{ text_to_double('avg_fba_sellers') }} as avg_fba_sellers,
        -- the UI export shows the in-stock rate as a percent, the API as a 0-1 ratio
        case
            when source_kind = 'csv_export' then {{ text_to_double('amazon_isr') }} / 100
            else {{ text_to_double('amazon_isr') }}
        end as amazon_in_stock_rate,
        {{ text_to_double('brand_score') }} as smartscout_brand_score,
        {{ text_to_double('dominant_seller_brand_coverage') }} as dominant_seller_share_pct,

        -- the original text, to explain a quarantine
        monthly_revenue as monthly_revenue_text,
        trailing12_months as trailing12_months_text,
        monthly_units_sold as monthly_units_sold_text,
        month_growth as month_growth_text,
        month_growth12 as month_growth12_text,
        total_products as total_products_text,
        total_reviews as total_reviews_text,
        review_rating as review_rating_text,
        avg_price as avg_price_text,
        avg_sellers as avg_sellers_text,
        brand_score as brand_score_text,

        -- lineage
        source_kind,
        {{ source_mode(source('smartscout', 'smartscout_brands')) }} as source_mode,
        source_file,
        source_row_number,
        extra_fields_json,
        {{ raw_load_id_number('_dlt_load_id') }} as raw_load_id,
        cast(fetched_at as {{ dbt.type_timestamp() }}) as fetched_at

    from deduplicated

),

with_reason as (

    select
        *,
        -- a store without a vanity slug has the URL /stores/page/<id>: 'page' is no slug (it
        -- would make every such brand match a `page` suppression entry)
        nullif(lower(store_slug_raw), 'page') as store_slug,
        case
            when nullif(trim(brand_name), '') is null then 'missing brand name'
            when normalized_brand_name is null then 'brand name has no letters or digits'
            when {{ is_unparseable('monthly_revenue_text', 'monthly_revenue_usd') }}
                then 'monthly_revenue is not a number'
            when monthly_revenue_usd < 0 then 'monthly_revenue is negative'
            when {{ is_unparseable('trailing12_months_text', 'trailing_12m_revenue_usd') }}
                then 'trailing12_months is not a number'
            when {{ is_unparseable('monthly_units_sold_text', 'monthly_units_sold') }}
                then 'monthly_units_sold is not a number'
            when {{ is_unparseable('month_growth_text', 'month_growth_pct') }}
                then 'month_growth is not a number'
            when {{ is_unparseable('month_growth12_text', 'year_growth_pct') }}
                then 'month_growth12 is not a number'
            when {{ is_unparseable('total_products_text', 'total_products') }}
                then 'total_products is not a number'
            when {{ is_unparseable('total_reviews_text', 'total_reviews') }}
                then 'total_reviews is not a number'
            when {{ is_unparseable('review_rating_text', 'review_rating') }}
                then 'review_rating is not a number'
            when review_rating not between 0 and 5 then 'review_rating outside 0-5'
            when {{ is_unparseable('avg_price_text', 'avg_price_usd') }}
                then 'avg_price is not a number'
            when {{ is_unparseable('avg_sellers_text', 'avg_sellers') }}
                then 'avg_sellers is not a number'
            when {{ is_unparseable('brand_score_text', 'smartscout_brand_score') }}
                then 'brand_score is not a number'
        end as rejection_reason
    from typed

),

final as (

    select
        -- ids
        {{ brand_id('marketplace', 'normalized_brand_name') }} as brand_id,
        record_hash,
        marketplace,
        store_slug,
        dominant_seller_id,

        -- dimensions
        brand_name,
        normalized_brand_name,
        category_name,
        subcategory_name,
        storefront_url,
        has_storefront,
        has_single_seller,

        -- measures
        monthly_revenue_usd,
        trailing_12m_revenue_usd,
        monthly_units_sold,
        month_growth_pct,
        year_growth_pct,
        total_products,
        total_reviews,
        review_rating,
        avg_price_usd,
        avg_sellers,
        avg_fba_sellers,
        amazon_in_stock_rate,
        smartscout_brand_score,
        dominant_seller_share_pct,

        -- quality and lineage
        rejection_reason,
        rejection_reason is null as is_valid,
        source_kind,
        source_mode,
        source_file,
        source_row_number,
        extra_fields_json,
        raw_load_id,
        -- the name normalization brand_id comes from (rows of another one are rebuilt)
        {{ name_normalization_fingerprint() }} as name_normalization,
        fetched_at

    from with_reason

)

select * from final
