-- A segment that gets outreach must name its Smartlead campaign, and every segment A-E
-- must say whether it gets outreach. The failing rows are stored (store_failures), so
-- `outreach build` prints their `problem`.
{{ config(store_failures=true) }}

with

campaigns as (

    select * from {{ ref('segment_campaigns') }}

),

thresholds as (

    select * from {{ ref('segment_thresholds') }}

),

problems as (

    select
        segment,
        'segment_campaigns: segment ' || segment || ' gets outreach but has no smartlead_campaign_id' as problem
    from campaigns
    where is_outreach_enabled and smartlead_campaign_id is null
    union all
    select
        thresholds.segment,
        'segment_campaigns: segment ' || thresholds.segment
        || ' (from segment_thresholds) is missing: say whether it gets outreach' as problem
    from thresholds
    left join campaigns
        on thresholds.segment = campaigns.segment
    where campaigns.segment is null

)

select * from problems
