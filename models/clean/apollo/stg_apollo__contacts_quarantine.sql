-- Apollo people that cannot be used as contacts, with the reason.
with

observations as (

    select * from {{ ref('stg_apollo__contact_observations') }}

),

final as (

    select
        contact_observation_id,
        brand_id,
        person_id,
        email_as_sent,
        rejection_reason,
        lookup_id,
        source_kind,
        matched_at
    from observations
    where not is_valid

)

select * from final
