-- A segment that gets outreach must name its Smartlead campaign, and every segment A-E
-- must say whether it gets outreach.
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
        'outreach enabled but smartlead_campaign_id missing' as problem
    from campaigns
    where is_outreach_enabled and smartlead_campaign_id is null
    union all
    select
        thresholds.segment,
        'segment missing from segment_campaigns' as problem
    from thresholds
    left join campaigns
        on thresholds.segment = campaigns.segment
    where campaigns.segment is null

)

select * from problems
