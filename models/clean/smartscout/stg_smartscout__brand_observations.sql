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
        -- SmartScout's dominantSellerProfileId (in the published schema, unlike storefrontUrl):
        -- a suppression key (seller_id)
        {{ seller_id_key('dominant_seller_profile_id') }} as dominant_seller_id,

        -- dimensions
        brand_name,
        {{ normalize_name('brand_name') }} as normalized_brand_name,
        nullif(trim(category_name), '') as category_name,
        nullif(trim(subcategory_name), '') as subcategory_name,
        -- a column is read by what it holds: an export whose `Storefront` column holds the store's
        -- URL was landed as has_storefront before the loader mapped columns by their cells
        coalesce(
            nullif(trim(storefront_url), ''),
            case when {{ is_url_text('has_storefront') }} then trim(has_storefront) end
        ) as storefront_url,
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
        avg_fba_sellers as avg_fba_sellers_text,
        amazon_isr as amazon_isr_text,
        dominant_seller_brand_coverage as dominant_seller_brand_coverage_text,
        has_storefront as has_storefront_text,
        has_single_seller as has_single_seller_text,

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
        nullif(lower({{ regexp_extract_group('storefront_url', '/stores/([^/?#]+)') }}), 'page') as store_slug,
        -- not a number, not finite (NaN, inf, 1e400), out of range: quarantined, so scaling
        -- downstream never sees such a value
        case
            when nullif(trim(brand_name), '') is null then 'missing brand name'
            when normalized_brand_name is null then 'brand name has no letters or digits'
            {{ measure_rejection_reasons('monthly_revenue', 'monthly_revenue_text', 'monthly_revenue_usd') }}
            when monthly_revenue_usd < 0 then 'monthly_revenue is negative'
            {{ measure_rejection_reasons('trailing12_months', 'trailing12_months_text', 'trailing_12m_revenue_usd') }}
            {{ measure_rejection_reasons('monthly_units_sold', 'monthly_units_sold_text', 'monthly_units_sold') }}
            {{ measure_rejection_reasons('month_growth', 'month_growth_text', 'month_growth_pct') }}
            {{ measure_rejection_reasons('month_growth12', 'month_growth12_text', 'year_growth_pct') }}
            {{ measure_rejection_reasons('total_products', 'total_products_text', 'total_products') }}
            {{ measure_rejection_reasons('total_reviews', 'total_reviews_text', 'total_reviews') }}
            {{ measure_rejection_reasons('review_rating', 'review_rating_text', 'review_rating') }}
            when review_rating not between 0 and 5 then 'review_rating outside 0-5'
            {{ measure_rejection_reasons('avg_price', 'avg_price_text', 'avg_price_usd') }}
            {{ measure_rejection_reasons('avg_sellers', 'avg_sellers_text', 'avg_sellers') }}
            {{ measure_rejection_reasons('avg_fba_sellers', 'avg_fba_sellers_text', 'avg_fba_sellers') }}
            {{ measure_rejection_reasons('amazon_isr', 'amazon_isr_text', 'amazon_in_stock_rate') }}
            {{ measure_rejection_reasons('brand_score', 'brand_score_text', 'smartscout_brand_score') }}
            {{ measure_rejection_reasons(
                'dominant_seller_brand_coverage', 'dominant_seller_brand_coverage_text', 'dominant_seller_share_pct'
            ) }}
            -- a yes/no that is neither (nor the store's URL, read above): quarantined, not read as no
            when
                {{ is_unparseable('has_storefront_text', 'has_storefront') }}
                and not {{ is_url_text('has_storefront_text') }}
                then 'has_storefront is not yes/no'
            when {{ is_unparseable('has_single_seller_text', 'has_single_seller') }}
                then 'has_single_seller is not yes/no'
            when storefront_url is not null and not {{ is_url_text('storefront_url') }}
                then 'storefront_url is not a URL'
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
