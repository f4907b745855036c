-- Every row of the Apollo call ledger, typed, with the reason it cannot be used (if any).
-- Downstream, good rows become stg_apollo__lookups and the rest its quarantine.
-- A row landed under an id an earlier name normalization made belongs to the brand's id now
-- (stg_brand_id_aliases).
with

source as (

    select * from {{ source('apollo', 'apollo_lookups') }}

),

aliases as (

    select * from {{ ref('stg_brand_id_aliases') }}

),

aliased as (

    select
        source.*,
        aliases.brand_id as aliased_brand_id
    from source
    left join aliases
        on source.brand_id = aliases.old_brand_id

),

typed as (

    select
        -- ids
        lookup_id,
        coalesce(aliased_brand_id, nullif(trim(brand_id), '')) as brand_id,
        nullif(trim(brand_id), '') as recorded_brand_id,

        -- dimensions
        brand_name,
        endpoint,
        lower(trim(status)) as lookup_status,
        error_message,

        -- measures: safe casts, a value that does not fit is quarantined below
        {{ try_cast_value('people_found', dbt.type_int()) }} as people_found,
        {{ try_cast_value('emails_revealed', dbt.type_int()) }} as emails_revealed,
        {{ try_cast_value('credits_consumed', dbt.type_int()) }} as credits_consumed,

        -- the values as landed, to explain a quarantine
        status as status_as_sent,
        people_found as people_found_as_sent,
        emails_revealed as emails_revealed_as_sent,
        credits_consumed as credits_consumed_as_sent,

        -- timestamps
        cast(looked_up_at as {{ dbt.type_timestamp() }}) as looked_up_at

    from aliased

),

with_reason as (

    select
        *,
        case
            when brand_id is null then 'missing brand_id'
            when lookup_status is null or lookup_status not in ('ok', 'no_match', 'error')
                then 'unknown lookup status'
            when people_found_as_sent is not null and people_found is null
                then 'people_found is not a whole number'
            when emails_revealed_as_sent is not null and emails_revealed is null
                then 'emails_revealed is not a whole number'
            when credits_consumed_as_sent is not null and credits_consumed is null
                then 'credits_consumed is not a whole number'
            when people_found < 0 or emails_revealed < 0 or credits_consumed < 0
                then 'negative count'
            when looked_up_at is null then 'missing looked_up_at'
        end as rejection_reason
    from typed

),

final as (

    select
        -- ids
        lookup_id,
        brand_id,
        recorded_brand_id,

        -- dimensions
        brand_name,
        endpoint,
        lookup_status,
        error_message,

        -- measures
        people_found,
        emails_revealed,
        credits_consumed,

        -- quality
        rejection_reason,
        rejection_reason is null as is_valid,
        status_as_sent,
        cast(people_found_as_sent as {{ dbt.type_string() }}) as people_found_as_sent,
        cast(emails_revealed_as_sent as {{ dbt.type_string() }}) as emails_revealed_as_sent,
        cast(credits_consumed_as_sent as {{ dbt.type_string() }}) as credits_consumed_as_sent,

        -- timestamps
        looked_up_at

    from with_reason

)

select * from final
