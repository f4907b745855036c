-- Outcomes per segment and weights version, so thresholds can be checked against results.
-- A contacted brand counts in the segment and weights version it had when first contacted
-- (seg_brand_segment_at_first_contact), not in today's: rescoring or new weights do not move
-- past outcomes. Brands now in the segment and today's queue are counted in the current segment.
with

statuses as (

    select * from {{ ref('seg_brand_pipeline_status') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

contacted as (

    select * from {{ ref('seg_brand_segment_at_first_contact') }}

),

current_brands as (

    select
        scores.segment,
        scores.weights_version,
        1 as is_current_brand,
        case when statuses.is_queued then 1 else 0 end as is_queued,
        0 as is_contacted,
        0 as is_attributed_at_first_contact,
        0 as emails_sent,
        0 as has_replied,
        0 as has_positive_reply
    from scores
    inner join statuses
        on scores.brand_id = statuses.brand_id

),

contacted_brands as (

    select
        segment,
        weights_version,
        0 as is_current_brand,
        0 as is_queued,
        1 as is_contacted,
        case when segment_attribution = 'at_first_contact' then 1 else 0 end as is_attributed_at_first_contact,
        coalesce(emails_sent, 0) as emails_sent,
        case when has_replied then 1 else 0 end as has_replied,
        case when has_positive_reply then 1 else 0 end as has_positive_reply
    from contacted
    -- a brand with events but never scored has no segment to credit
    where segment is not null

),

unioned as (

    select * from current_brands
    union all
    select * from contacted_brands

),

aggregated as (

    select
        segment,
        weights_version,
        cast(sum(is_current_brand) as {{ dbt.type_bigint() }}) as brands,
        cast(sum(is_queued) as {{ dbt.type_bigint() }}) as brands_queued,
        cast(sum(is_contacted) as {{ dbt.type_bigint() }}) as brands_contacted,
        cast(sum(is_attributed_at_first_contact) as {{ dbt.type_bigint() }}) as brands_contacted_attributed_at_contact,
        cast(sum(emails_sent) as {{ dbt.type_bigint() }}) as emails_sent,
        cast(sum(has_replied) as {{ dbt.type_bigint() }}) as brands_replied,
        cast(sum(has_positive_reply) as {{ dbt.type_bigint() }}) as brands_positive
    from unioned
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
        brands_contacted_attributed_at_contact,
        brands_contacted - brands_contacted_attributed_at_contact as brands_contacted_attributed_by_fallback,
        emails_sent,
        brands_replied,
        brands_positive,
        -- the queue holds only never-contacted brands: contacted + queued = every brand that
        -- qualified for outreach in this segment and version
        round(brands_contacted * 1.0 / nullif(brands_contacted + brands_queued, 0), 4) as send_rate,
        round(brands_replied * 1.0 / nullif(brands_contacted, 0), 4) as reply_rate,
        round(brands_positive * 1.0 / nullif(brands_contacted, 0), 4) as positive_reply_rate

    from aggregated

)

select * from final
