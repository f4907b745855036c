-- One row per campaign event: duplicate deliveries and both webhook spellings collapse.
with

observations as (

    select * from {{ ref('stg_smartlead__event_observations') }}
    where is_valid

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id order by received_at, event_key
        ) as delivery_rank,
        count(*) over (partition by event_id) as delivery_count
    from observations

),

final as (

    select
        -- ids
        event_id,
        stats_id,
        campaign_id,
        email,
        split_part(email, '@', 2) as email_domain,

        -- dimensions
        event_type,
        is_email_sent,
        suppression_reason,
        campaign_name,
        sequence_number,
        lead_category_old,
        lead_category_new,

        -- measures
        delivery_count,

        -- timestamps
        event_at,
        received_at as first_received_at

    from ranked
    where delivery_rank = 1

)

select * from final
