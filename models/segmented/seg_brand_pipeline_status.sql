-- Where each brand is in the pipeline now, since when, and for how long: the furthest status it
-- has reached (discovered -> scored -> enriched -> queued -> contacted -> replied -> positive
-- -> in_crm). Brands that sit long in one status are where the pipeline is stuck.
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

        -- timestamps: when each status was reached (NULL when not reached or not recorded)
        discovered_at,
        enriched_at,
        contacted_at,
        replied_at,
        positive_at,
        in_crm_at,
        -- scoring and queueing happen at build time; they inherit the previous status's time
        coalesce(in_crm_at, positive_at, replied_at, contacted_at, enriched_at, discovered_at)
            as status_entered_at

    from statuses

)

select * from final
