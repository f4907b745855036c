-- The Apollo call ledger, typed: what was looked up, when, and what it cost.
with

source as (

    select * from {{ source('apollo', 'apollo_lookups') }}

),

final as (

    select
        -- ids
        lookup_id,
        brand_id,

        -- dimensions
        brand_name,
        endpoint,
        status as lookup_status,
        error_message,

        -- measures
        cast(people_found as {{ dbt.type_int() }}) as people_found,
        cast(emails_revealed as {{ dbt.type_int() }}) as emails_revealed,
        cast(credits_consumed as {{ dbt.type_int() }}) as credits_consumed,

        -- timestamps
        cast(looked_up_at as {{ dbt.type_timestamp() }}) as looked_up_at

    from source

)

select * from final
