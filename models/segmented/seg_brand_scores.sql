-- Score 0-100 and segment A-E per brand. The score is the sum of the signal contributions;
-- the segment is the one with the highest lower bound the score reaches.
with

contributions as (

    select * from {{ ref('seg_brand_signal_contributions') }}

),

thresholds as (

    select * from {{ ref('segment_thresholds') }}

),

campaigns as (

    select * from {{ ref('segment_campaigns') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

scores as (

    select
        brand_id,
        weights_version,
        -- contributions have 4 decimals: summed as exact decimals, so the score does not depend
        -- on the order rows are summed in (a float sum of a score like 31.155 can round either
        -- way, and an incremental contributions table stores its rows in another order)
        cast(round(sum(cast(contribution as decimal(18, 4))), 2) as {{ type_double() }}) as score,
        sum(case when is_missing then 1 else 0 end) as missing_signal_count
    from contributions
    group by brand_id, weights_version

),

segmented as (

    select
        scores.*,
        thresholds.segment,
        row_number() over (
            partition by scores.brand_id order by thresholds.min_score desc
        ) as threshold_rank
    from scores
    inner join thresholds
        on scores.score >= thresholds.min_score

),

final as (

    select
        -- ids
        brands.brand_id,

        -- dimensions
        brands.brand_name,
        segmented.segment,
        segmented.weights_version,
        coalesce(campaigns.is_outreach_enabled, false) as is_outreach_segment,
        brands.is_suppressed,
        brands.primary_suppression_reason,
        brands.has_usable_contact,
        brands.was_contacted,

        -- measures
        segmented.score,
        segmented.missing_signal_count,
        brands.monthly_revenue_usd

    from segmented
    inner join brands
        on segmented.brand_id = brands.brand_id
    left join campaigns
        on segmented.segment = campaigns.segment
    where segmented.threshold_rank = 1

)

select * from final
