-- Brand metrics in long form (brand, source column, value): the scoring weights seed picks
-- its signals from here by `source_column`, so a new signal is a seed edit, not a model edit.
-- Incremental (docs/incremental.md): a run rebuilds only the brands stg_smartscout__brands
-- rebuilt since the last run (their `last_raw_load_id` is newer than the newest one processed
-- here, minus var smartscout_brand_lookback_days), all of their signals, replaced on
-- (brand_id, source_column). Brands are never deleted upstream, and each has the same fixed set
-- of signals, so an upsert is exact.
{{
    config(
        materialized='incremental',
        unique_key=['brand_id', 'source_column'],
        incremental_strategy=incremental_strategy(),
        tmp_relation_type='transient',
        on_schema_change='fail',
        pre_hook=[
            "{{ add_name_normalization_column() }}",
            "{{ delete_rows_of_other_name_normalization() }}"
        ]
    )
}}

with

brands as (

    select * from {{ ref('stg_smartscout__brands') }}
    where {{ loaded_since_last_run('last_raw_load_id', var('smartscout_brand_lookback_days'), 'last_raw_load_id') }}

),

{%- set signal_columns = [
    'monthly_revenue_usd', 'trailing_12m_revenue_usd', 'monthly_units_sold',
    'month_growth_pct', 'year_growth_pct', 'total_products', 'total_reviews',
    'review_rating', 'avg_price_usd', 'avg_sellers', 'avg_fba_sellers',
    'amazon_in_stock_rate', 'smartscout_brand_score', 'dominant_seller_share_pct'
] %}

unpivoted as (

    {% for column in signal_columns %}
        select
            brand_id,
            '{{ column }}' as source_column,
            cast({{ column }} as {{ type_double() }}) as raw_value,
            last_raw_load_id
        from brands
        union all
    {% endfor %}
    select
        brand_id,
        'has_storefront_flag' as source_column,
        cast(case when has_storefront then 1 else 0 end as {{ type_double() }}) as raw_value,
        last_raw_load_id
    from brands

),

final as (

    select
        -- ids (unique together: tested as a combination, no surrogate hash on every row)
        brand_id,
        source_column,

        -- measures
        raw_value,

        -- lineage: the newest RAW load of the brand's observations (what an incremental run compares)
        last_raw_load_id,
        -- the name normalization its brand_id comes from (rows of another one are rebuilt)
        {{ name_normalization_fingerprint() }} as name_normalization

    from unpivoted

)

select * from final
