-- Outcomes per segment and weights version, so thresholds can be checked against results:
-- how many brands, how many were contacted, and their reply and positive-reply rates.
-- Brands are counted in their current segment.
with

statuses as (

    select * from {{ ref('seg_brand_pipeline_status') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

history as (

    select * from {{ ref('int_brand_outreach_history') }}

),

per_brand as (

    select
        scores.segment,
        scores.weights_version,
        scores.brand_id,
        statuses.is_queued,
        history.brand_id is not null as was_contacted,
        coalesce(history.emails_sent, 0) as emails_sent,
        coalesce(history.has_replied, false) as has_replied,
        coalesce(history.has_positive_reply, false) as has_positive_reply
    from scores
    inner join statuses
        on scores.brand_id = statuses.brand_id
    left join history
        on scores.brand_id = history.brand_id

),

aggregated as (

    select
        segment,
        weights_version,
        count(*) as brands,
        cast(sum(case when is_queued then 1 else 0 end) as {{ dbt.type_bigint() }}) as brands_queued,
        cast(sum(case when was_contacted then 1 else 0 end) as {{ dbt.type_bigint() }}) as brands_contacted,
        cast(sum(emails_sent) as {{ dbt.type_bigint() }}) as emails_sent,
        cast(sum(case when has_replied then 1 else 0 end) as {{ dbt.type_bigint() }}) as brands_replied,
        sum(case when has_positive_reply then 1 else 0 end) as brands_positive
    from per_brand
    group by segment, weights_version

),

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat(['segment', "'|'", 'weights_version'])) }} as segment_performance_id,
        segment,
        weights_version,

        -- measures
        brands,
        brands_queued,
        brands_contacted,
        emails_sent,
        brands_replied,
        brands_positive,
        round(brands_replied * 1.0 / nullif(brands_contacted, 0), 4) as reply_rate,
        round(brands_positive * 1.0 / nullif(brands_contacted, 0), 4) as positive_reply_rate

    from aggregated

)

select * from final
