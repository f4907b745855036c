-- The funnel, one row per status: how many brands reached it (at least), how many sit in it
-- now, and how long those have been there. Conversion is against the previous status.
with

statuses as (

    select * from {{ ref('seg_brand_pipeline_status') }}

),

steps as (

    select
        1 as status_order,
        'discovered' as pipeline_status
    union all
    select
        2 as status_order,
        'scored' as pipeline_status
    union all
    select
        3 as status_order,
        'enriched' as pipeline_status
    union all
    select
        4 as status_order,
        'queued' as pipeline_status
    union all
    select
        5 as status_order,
        'contacted' as pipeline_status
    union all
    select
        6 as status_order,
        'replied' as pipeline_status
    union all
    select
        7 as status_order,
        'positive' as pipeline_status
    union all
    select
        8 as status_order,
        'in_crm' as pipeline_status

),

reached as (

    -- a brand that is queued was enriched and scored; one that replied was contacted, ...
    -- (queued is a current state: brands contacted before were never in today's queue)
    select
        steps.status_order,
        steps.pipeline_status,
        cast(sum(
            case
                when steps.pipeline_status = 'queued' then case when statuses.is_queued then 1 else 0 end
                when steps.pipeline_status = 'scored' then case when statuses.segment is not null then 1 else 0 end
                when statuses.status_order >= steps.status_order then 1
                else 0
            end
        ) as {{ dbt.type_bigint() }}) as brands_reached,
        cast(sum(case when statuses.status_order = steps.status_order then 1 else 0 end) as {{ dbt.type_bigint() }})
            as brands_in_status,
        avg(
            case
                when statuses.status_order = steps.status_order
                    then {{ dbt.datediff('statuses.status_entered_at', dbt.current_timestamp(), 'day') }}
            end
        ) as avg_days_in_status,
        max(
            case
                when statuses.status_order = steps.status_order
                    then {{ dbt.datediff('statuses.status_entered_at', dbt.current_timestamp(), 'day') }}
            end
        ) as max_days_in_status
    from steps
    cross join statuses
    group by steps.status_order, steps.pipeline_status

),

final as (

    select
        -- ids
        pipeline_status,

        -- measures
        status_order,
        brands_reached,
        brands_in_status,
        round(avg_days_in_status, 1) as avg_days_in_status,
        max_days_in_status,
        round(
            brands_reached * 1.0 / nullif(lag(brands_reached) over (order by status_order), 0), 4
        ) as conversion_from_previous

    from reached

)

select * from final
