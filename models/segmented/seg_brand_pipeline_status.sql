-- Where each brand is in the pipeline now, since when, and for how long: the furthest status it
-- has reached (discovered -> scored -> enriched -> queued -> contacted -> replied -> positive
-- -> in_crm), how long it took between the statuses it passed, and whether it is stuck.
-- Stuck: the next move is the pipeline's own (score it, find a usable contact, send the first
-- email) and it has not happened for more than var('pipeline_stuck_after_days') days. Waiting for
-- the prospect (contacted, replied), held on purpose (suppressed, a segment without outreach, a
-- positive reply a suppression keeps out of the CRM) or done (in_crm) is never stuck.
{%- set stuck_after_days = var('pipeline_stuck_after_days', 14) %}

with

brands as (

    select * from {{ ref('dim_brands') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

queue as (

    select * from {{ ref('seg_outreach_queue') }}

),

handoff as (

    select * from {{ ref('seg_crm_handoff') }}

),

contacts as (

    select
        brand_id,
        min(matched_at) as first_enriched_at
    from {{ ref('stg_apollo__contacts') }}
    group by brand_id

),

crm as (

    select
        brand_id,
        min(positive_reply_at) as handed_off_at
    from handoff
    where brand_id is not null
    group by brand_id

),

statuses as (

    select
        brands.brand_id,
        scores.segment,
        scores.is_outreach_segment,
        brands.is_suppressed,
        brands.primary_suppression_reason,
        brands.first_seen_at as discovered_at,
        contacts.first_enriched_at as enriched_at,
        brands.first_contacted_at as contacted_at,
        brands.first_replied_at as replied_at,
        brands.first_positive_reply_at as positive_at,
        crm.handed_off_at as in_crm_at,
        queue.brand_id is not null as is_queued,
        -- scoring and queueing happen at build time; they inherit the previous status's time
        coalesce(
            crm.handed_off_at,
            brands.first_positive_reply_at,
            brands.first_replied_at,
            brands.first_contacted_at,
            contacts.first_enriched_at,
            brands.first_seen_at
        ) as status_entered_at,
        case
            when crm.brand_id is not null then 'in_crm'
            when brands.first_positive_reply_at is not null then 'positive'
            when brands.first_replied_at is not null then 'replied'
            when brands.was_contacted then 'contacted'
            when queue.brand_id is not null then 'queued'
            when contacts.brand_id is not null then 'enriched'
            when scores.brand_id is not null then 'scored'
            else 'discovered'
        end as pipeline_status
    from brands
    left join scores
        on brands.brand_id = scores.brand_id
    left join contacts
        on brands.brand_id = contacts.brand_id
    left join queue
        on brands.brand_id = queue.brand_id
    left join crm
        on brands.brand_id = crm.brand_id

),

timed as (

    select
        *,
        {{ days_between('status_entered_at', dbt.current_timestamp()) }} as days_in_status,
        -- whose move is next: the pipeline's own (score, find a usable contact, send)
        case
            when pipeline_status = 'discovered' then true
            when pipeline_status in ('scored', 'enriched')
                then coalesce(is_outreach_segment, false) and not is_suppressed
            when pipeline_status = 'queued' then true
            else false
        end as is_waiting_on_pipeline
    from statuses

),

final as (

    select
        -- ids
        brand_id,

        -- dimensions
        pipeline_status,
        case pipeline_status
            when 'discovered' then 1
            when 'scored' then 2
            when 'enriched' then 3
            when 'queued' then 4
            when 'contacted' then 5
            when 'replied' then 6
            when 'positive' then 7
            when 'in_crm' then 8
        end as status_order,
        segment,
        is_outreach_segment,
        is_queued,
        is_suppressed,
        primary_suppression_reason,
        is_waiting_on_pipeline,
        coalesce(is_waiting_on_pipeline and days_in_status > {{ stuck_after_days }}, false) as is_stuck,

        -- measures: days in the current status, and between the statuses passed (NULL when a
        -- time is unknown or the recorded order is reversed, e.g. events older than the brand's
        -- first SmartScout load). Scoring and queueing are not timed: their time counts in the
        -- status before (discovered -> enriched includes scoring, enriched -> contacted the queue).
        days_in_status,
        {{ days_between('discovered_at', 'enriched_at', null_if_reversed=true) }} as days_discovered_to_enriched,
        {{ days_between('enriched_at', 'contacted_at', null_if_reversed=true) }} as days_enriched_to_contacted,
        {{ days_between('contacted_at', 'replied_at', null_if_reversed=true) }} as days_contacted_to_replied,
        {{ days_between('replied_at', 'positive_at', null_if_reversed=true) }} as days_replied_to_positive,
        {{ days_between('positive_at', 'in_crm_at', null_if_reversed=true) }} as days_positive_to_in_crm,

        -- timestamps: when each status was reached (NULL when not reached or not recorded)
        discovered_at,
        enriched_at,
        contacted_at,
        replied_at,
        positive_at,
        in_crm_at,
        status_entered_at

    from timed

)

select * from final
