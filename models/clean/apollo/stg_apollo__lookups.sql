-- The Apollo call ledger, typed: what was looked up, when, and what it cost. One row per
-- usable lookup; the others are in stg_apollo__lookups_quarantine.
with

observations as (

    select * from {{ ref('stg_apollo__lookup_observations') }}
    where is_valid

),

final as (

    select
        -- ids
        lookup_id,
        brand_id,

        -- dimensions
        brand_name,
        endpoint,
        lookup_status,
        error_message,

        -- measures
        people_found,
        emails_revealed,
        credits_consumed,

        -- timestamps
        looked_up_at

    from observations

)

select * from final
