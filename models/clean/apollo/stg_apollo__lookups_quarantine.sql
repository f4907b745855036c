-- Apollo ledger rows that cannot be used, with the reason. Nothing is dropped silently.
with

observations as (

    select * from {{ ref('stg_apollo__lookup_observations') }}

),

final as (

    select
        lookup_id,
        brand_id,
        brand_name,
        endpoint,
        status_as_sent,
        people_found_as_sent,
        emails_revealed_as_sent,
        credits_consumed_as_sent,
        rejection_reason,
        looked_up_at
    from observations
    where not is_valid

)

select * from final
