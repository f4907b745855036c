-- RAW brand observations that could not be cleaned, with the reason. Nothing is dropped silently.
with

observations as (

    select * from {{ ref('stg_smartscout__brand_observations') }}

),

final as (

    select
        record_hash,
        marketplace,
        brand_name,
        rejection_reason,
        source_kind,
        source_file,
        source_row_number,
        extra_fields_json,
        fetched_at
    from observations
    where not is_valid

)

select * from final
