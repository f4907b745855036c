-- Every RAW campaign event with its canonical type, parsed time and natural event id,
-- plus the reason it cannot be used (if any).
-- Incremental (docs/incremental.md): a run reads the RAW rows loaded since the last one (minus
-- var smartlead_event_lookback_days) and upserts them on event_key. Rows built with another
-- smartlead_event_types seed are deleted first, so an edited seed reprocesses all of RAW.
{{
    config(
        materialized='incremental',
        unique_key='event_key',
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

source as (

    select * from {{ source('smartlead', 'smartlead_events') }}
    where {{ loaded_since_last_run(raw_load_id_number('_dlt_load_id'), var('smartlead_event_lookback_days')) }}

),

event_types as (

    select * from {{ ref('smartlead_event_types') }}

),

typed as (

    select
        source.event_key,
        upper(trim(source.event_type)) as event_type_as_sent,
        event_types.event_type,
        coalesce(event_types.is_email_sent, false) as is_email_sent,
        event_types.suppression_reason,
        -- canonical (macros/canonical_keys.sql), so events join contacts and suppression keys
        {{ canonical_email('source.to_email') }} as email,
        {{ text_to_timestamp('source.event_timestamp') }} as event_at,
        source.event_timestamp as event_timestamp_text,
        {{ text_to_bigint('source.campaign_id') }} as campaign_id,
        nullif(trim(source.campaign_name), '') as campaign_name,
        {{ text_to_bigint('source.sequence_number') }} as sequence_number,
        nullif(trim(source.stats_id), '') as stats_id,
        nullif(trim(source.lead_category_old), '') as lead_category_old,
        nullif(trim(source.lead_category_new), '') as lead_category_new,
        source.source_kind,
        {{ source_mode(source('smartlead', 'smartlead_events'), 'source.') }} as source_mode,
        source.source_file,
        source.source_row_number,
        {{ raw_load_id_number('source._dlt_load_id') }} as raw_load_id,
        cast(source.received_at as {{ dbt.type_timestamp() }}) as received_at
    from source
    left join event_types
        on upper(trim(source.event_type)) = event_types.spelling

),

with_reason as (

    select
        *,
        case
            when event_type_as_sent is null or event_type_as_sent = '' then 'missing event type'
            when event_type is null then 'unknown event type'
            when nullif(email, '') is null then 'missing recipient email'
            when event_at is null then 'unparseable event timestamp'
        end as rejection_reason
    from typed

),

final as (

    select
        -- ids: the same event delivered twice, in either envelope or by the statistics poll,
        -- gets the same id. Smartlead's de-duplication key is (campaign, recipient, event type,
        -- time); stats_id is left out because the newer event/lead{} envelope usually omits it.
        -- The time is rendered to the second by a portable macro (a poll sends milliseconds, a
        -- webhook may not), so the id is the same on every warehouse. A bounce, unsubscribe or
        -- complaint happens once per recipient and campaign, and the poll dates it with the send
        -- time, not its own: its id leaves the time out, so poll and webhook give one event.
        {{ dbt.hash(dbt.concat([
            "coalesce(cast(campaign_id as " ~ dbt.type_string() ~ "), '')", "'|'",
            "coalesce(event_type, '')", "'|'",
            "coalesce(email, '')", "'|'",
            "case when suppression_reason is null then coalesce("
                ~ timestamp_iso_text('event_at') ~ ", '') else '' end", "'|'",
            "coalesce(lead_category_new, '')"
        ])) }} as event_id,
        event_key,
        stats_id,
        campaign_id,
        email,

        -- dimensions
        event_type,
        event_type_as_sent,
        is_email_sent,
        suppression_reason,
        campaign_name,
        sequence_number,
        lead_category_old,
        lead_category_new,

        -- quality and lineage
        rejection_reason,
        rejection_reason is null as is_valid,
        event_timestamp_text,
        source_kind,
        source_mode,
        source_file,
        source_row_number,
        raw_load_id,
        {{ smartlead_event_types_fingerprint() }} as config_fingerprint,

        -- timestamps
        event_at,
        received_at

    from with_reason

)

select * from final
