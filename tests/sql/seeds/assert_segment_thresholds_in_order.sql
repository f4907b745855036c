-- Segments A-E must all be present with strictly decreasing lower bounds, E starting at 0
-- and A at most 100; otherwise some scores would fall in no segment or in two.
-- Each row's `problem` names the seed, the segments and their bounds; the failing rows are stored
-- (store_failures), so `outreach build` prints them.
{{ config(store_failures=true) }}

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
        lag(expected.segment) over (order by expected.segment_order) as previous_segment,
        lag(thresholds.min_score) over (order by expected.segment_order) as previous_min_score
    from expected
    left join thresholds
        on expected.segment = thresholds.segment

),

described as (

    select
        *,
        {{ number_text('min_score') }} as min_score_text,
        {{ number_text('previous_min_score') }} as previous_min_score_text
    from ordered

),

problems as (

    select
        segment,
        'segment_thresholds: segment ' || segment || ' is missing' as problem
    from described
    where min_score is null
    union all
    select
        thresholds.segment,
        'segment_thresholds: unknown segment ' || thresholds.segment || ' (segments are A-E)' as problem
    from thresholds
    left join expected
        on thresholds.segment = expected.segment
    where expected.segment is null
    union all
    select
        segment,
        'segment_thresholds: thresholds out of order: '
        || segment || ' (' || min_score_text || ') >= '
        || previous_segment || ' (' || previous_min_score_text || ')' as problem
    from described
    where min_score > previous_min_score
    union all
    select
        segment,
        'segment_thresholds: thresholds overlap: ' || previous_segment || ' and ' || segment
        || ' both start at ' || min_score_text || ' (a score fits both segments)' as problem
    from described
    where min_score = previous_min_score
    union all
    select
        segment,
        'segment_thresholds: segment E must start at 0 so every score gets a segment (it starts at '
        || min_score_text || ')' as problem
    from described
    where segment = 'E' and min_score != 0
    union all
    select
        segment,
        'segment_thresholds: min_score of ' || segment || ' is ' || min_score_text || ', outside 0-100' as problem
    from described
    where min_score < 0 or min_score > 100

)

select * from problems
