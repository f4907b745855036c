-- The funnel, one row per status: how many brands reached it (at least), how many sit in it
-- now, how long those have been there and how many of them are stuck (seg_brand_pipeline_status),
-- and, for the brands that moved on, how long the step to the next timed status took.
-- Conversion is against the previous status. Scoring and queueing are not timed (they happen at
-- build time): discovered -> enriched includes scoring, enriched -> contacted the time queued.
with

statuses as (

    select * from {{ ref('seg_brand_pipeline_status') }}

),

steps as (

    select
        1 as status_order,
        'discovered' as pipeline_status,
        'enriched' as next_timed_status
    union all
    select
        2 as status_order,
        'scored' as pipeline_status,
        cast(null as {{ dbt.type_string() }}) as next_timed_status
    union all
    select
        3 as status_order,
        'enriched' as pipeline_status,
        'contacted' as next_timed_status
    union all
    select
        4 as status_order,
        'queued' as pipeline_status,
        cast(null as {{ dbt.type_string() }}) as next_timed_status
    union all
    select
        5 as status_order,
        'contacted' as pipeline_status,
        'replied' as next_timed_status
    union all
    select
        6 as status_order,
        'replied' as pipeline_status,
        'positive' as next_timed_status
    union all
    select
        7 as status_order,
        'positive' as pipeline_status,
        'in_crm' as next_timed_status
    union all
    select
        8 as status_order,
        'in_crm' as pipeline_status,
        cast(null as {{ dbt.type_string() }}) as next_timed_status

),

step_durations as (

    -- one row per brand and timed step it completed
    select
        1 as status_order,
        days_discovered_to_enriched as days_to_next_status
    from statuses
    where days_discovered_to_enriched is not null
    union all
    select
        3 as status_order,
        days_enriched_to_contacted as days_to_next_status
    from statuses
    where days_enriched_to_contacted is not null
    union all
    select
        5 as status_order,
        days_contacted_to_replied as days_to_next_status
    from statuses
    where days_contacted_to_replied is not null
    union all
    select
        6 as status_order,
        days_replied_to_positive as days_to_next_status
    from statuses
    where days_replied_to_positive is not null
    union all
    select
        7 as status_order,
        days_positive_to_in_crm as days_to_next_status
    from statuses
    where days_positive_to_in_crm is not null

),

step_summary as (

    select
        status_order,
        count(*) as brands_moved_on,
        avg(days_to_next_status) as avg_days_to_next_status,
        median(days_to_next_status) as median_days_to_next_status,
        max(days_to_next_status) as max_days_to_next_status
    from step_durations
    group by status_order

),

reached as (

    -- a brand that is queued was enriched and scored; one that replied was contacted, ...
    -- (queued is a current state: brands contacted before were never in today's queue)
    select
        steps.status_order,
        steps.pipeline_status,
        steps.next_timed_status,
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
        avg(case when statuses.status_order = steps.status_order then statuses.days_in_status end)
            as avg_days_in_status,
        max(case when statuses.status_order = steps.status_order then statuses.days_in_status end)
            as max_days_in_status,
        cast(sum(
            case when statuses.status_order = steps.status_order and statuses.is_stuck then 1 else 0 end
        ) as {{ dbt.type_bigint() }}) as brands_stuck
    from steps
    cross join statuses
    group by steps.status_order, steps.pipeline_status, steps.next_timed_status

),

final as (

    select
        -- ids
        reached.pipeline_status,

        -- dimensions
        reached.next_timed_status,

        -- measures
        reached.status_order,
        reached.brands_reached,
        reached.brands_in_status,
        reached.brands_stuck,
        round(reached.avg_days_in_status, 1) as avg_days_in_status,
        reached.max_days_in_status,
        round(
            reached.brands_reached * 1.0
            / nullif(lag(reached.brands_reached) over (order by reached.status_order), 0),
            4
        ) as conversion_from_previous,
        -- NULL for the untimed statuses (scored, queued) and the last one
        case when reached.next_timed_status is not null then coalesce(step_summary.brands_moved_on, 0) end
            as brands_moved_on,
        round(step_summary.avg_days_to_next_status, 1) as avg_days_to_next_status,
        round(step_summary.median_days_to_next_status, 1) as median_days_to_next_status,
        step_summary.max_days_to_next_status

    from reached
    left join step_summary
        on reached.status_order = step_summary.status_order

)

select * from final
