-- One row per campaign event: duplicate deliveries and both webhook spellings collapse.
-- Incremental (docs/incremental.md): a run rebuilds only the events that have an observation
-- loaded since the last run (minus var smartlead_event_lookback_days), each from all of its
-- observations, so a late duplicate delivery updates delivery_count and first_received_at.
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy=incremental_strategy(),
        tmp_relation_type='transient',
        on_schema_change='fail',
        pre_hook=[
            "{{ add_missing_text_columns(['source_mode']) }}",
            "{{ delete_rows_of_other_configuration('config_fingerprint', smartlead_event_types_fingerprint()) }}"
        ]
    )
}}

with

observations as (

    -- valid deliveries; in an incremental run only those of the events with a delivery loaded
    -- since the last run (all of their deliveries: an event is rebuilt whole)
    select * from {{ ref('stg_smartlead__event_observations') }}
    where
        is_valid
        and {{ key_loaded_since_last_run(
            'event_id',
            ref('stg_smartlead__event_observations'),
            var('smartlead_event_lookback_days'),
            'last_raw_load_id'
        ) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id order by received_at asc nulls last, event_key asc
        ) as delivery_rank,
        -- the newer envelope usually has no stats_id: take it from any delivery that has one
        max(stats_id) over (partition by event_id) as any_stats_id,
        count(*) over (partition by event_id) as delivery_count,
        -- deliveries of one event agree on its time to the second; a bounce polled with its
        -- send time and delivered by webhook with its own is dated by the earlier
        min(event_at) over (partition by event_id) as first_event_at,
        max(raw_load_id) over (partition by event_id) as last_raw_load_id,
        -- live only when every delivery of the event came from a live source
        case
            when max(case when source_mode = 'sample' then 1 else 0 end) over (partition by event_id) = 1
                then 'sample'
            when max(case when source_mode = 'live' then 0 else 1 end) over (partition by event_id) = 1
                then 'unknown'
            else 'live'
        end as event_source_mode
    from observations

),

final as (

    select
        -- ids
        event_id,
        any_stats_id as stats_id,
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

        -- lineage
        event_source_mode as source_mode,
        last_raw_load_id,
        config_fingerprint,

        -- timestamps
        first_event_at as event_at,
        received_at as first_received_at

    from ranked
    where delivery_rank = 1

)

select * from final
