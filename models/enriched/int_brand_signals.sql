-- Brand metrics in long form (brand, source column, value): the scoring weights seed picks
-- its signals from here by `source_column`, so a new signal is a seed edit, not a model edit.
with

brands as (

    select * from {{ ref('stg_smartscout__brands') }}

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
            cast({{ column }} as {{ type_double() }}) as raw_value
        from brands
        union all
    {% endfor %}
    select
        brand_id,
        'has_storefront_flag' as source_column,
        cast(case when has_storefront then 1 else 0 end as {{ type_double() }}) as raw_value
    from brands

),

final as (

    select
        {{ dbt.hash(dbt.concat(['brand_id', "'|'", 'source_column'])) }} as brand_signal_id,
        brand_id,
        source_column,
        raw_value
    from unpivoted

)

select * from final
