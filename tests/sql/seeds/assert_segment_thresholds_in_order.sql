-- Segments A-E must all be present with strictly decreasing lower bounds, E starting at 0
-- and A at most 100; otherwise some scores would fall in no segment or in the wrong one.
with

thresholds as (

    select * from {{ ref('segment_thresholds') }}

),

expected as (

    select
        'A' as segment,
        1 as segment_order
    union all
    select
        'B' as segment,
        2 as segment_order
    union all
    select
        'C' as segment,
        3 as segment_order
    union all
    select
        'D' as segment,
        4 as segment_order
    union all
    select
        'E' as segment,
        5 as segment_order

),

ordered as (

    select
        expected.segment,
        expected.segment_order,
        thresholds.min_score,
        lag(thresholds.min_score) over (order by expected.segment_order) as previous_min_score
    from expected
    left join thresholds
        on expected.segment = thresholds.segment

),

problems as (

    select
        segment,
        'segment missing from segment_thresholds' as problem
    from ordered
    where min_score is null
    union all
    select
        segment,
        'thresholds out of order: min_score must be lower than the segment above' as problem
    from ordered
    where previous_min_score is not null and min_score >= previous_min_score
    union all
    select
        segment,
        'segment E must start at 0 so every score gets a segment' as problem
    from ordered
    where segment = 'E' and min_score != 0
    union all
    select
        segment,
        'min_score outside 0-100' as problem
    from ordered
    where min_score < 0 or min_score > 100

)

select * from problems
