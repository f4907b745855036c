-- Campaign events that cannot be used, with the reason.
with

observations as (

    select * from {{ ref('stg_smartlead__event_observations') }}

),

final as (

    select
        event_key,
        event_type_as_sent,
        email,
        event_timestamp_text,
        rejection_reason,
        source_kind,
        source_file,
        source_row_number,
        received_at
    from observations
    where not is_valid

)

select * from final
