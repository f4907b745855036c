-- "Why is this brand a B?" in one model: per brand and scoring signal, the raw value, how it was
-- scaled, the weight and the points it earned, next to the brand's score, its segment, that
-- segment's lower bound, and the points the brand needs to reach the segment above.
-- A view: it only joins three tables, and stays in step with them without a rebuild.
{{ config(materialized='view') }}

with

contributions as (

    select * from {{ ref('seg_brand_signal_contributions') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

thresholds as (

    select * from {{ ref('segment_thresholds') }}

),

segment_bounds as (

    -- each segment's lower bound and the segment just above it (NULL above A)
    select
        segment,
        min_score,
        lead(segment) over (order by min_score) as next_segment,
        lead(min_score) over (order by min_score) as next_segment_min_score
    from thresholds

),

final as (

    select
        -- ids
        contributions.brand_signal_contribution_id,
        contributions.brand_id,
        contributions.signal,

        -- brand
        scores.brand_name,
        scores.segment,
        scores.weights_version,
        scores.score,
        segment_bounds.min_score as segment_min_score,
        segment_bounds.next_segment,
        segment_bounds.next_segment_min_score,
        round(segment_bounds.next_segment_min_score - scores.score, 2) as points_to_next_segment,

        -- signal
        contributions.source_column,
        contributions.scaling,
        contributions.direction,
        contributions.is_missing,
        contributions.raw_value,
        contributions.signal_min,
        contributions.signal_max,
        contributions.scaled_value,
        contributions.weight,
        contributions.contribution,
        round(contributions.weight - contributions.contribution, 4) as points_missed,
        round(contributions.contribution / nullif(scores.score, 0), 4) as share_of_score,
        row_number() over (
            partition by contributions.brand_id
            order by contributions.contribution desc, contributions.signal asc
        ) as contribution_rank

    from contributions
    inner join scores
        on
            contributions.brand_id = scores.brand_id
            and contributions.weights_version = scores.weights_version
    inner join segment_bounds
        on scores.segment = segment_bounds.segment

)

select * from final
