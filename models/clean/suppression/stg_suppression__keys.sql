-- Everything that must never be emailed, one row per (key_type, key, reason): the business lists
-- (both seed shapes, already one canonical key per row in stg_suppression__list_keys), plus
-- email-level suppression learned from campaign events. Every key is canonical
-- (macros/canonical_keys.sql): an email key is the address without its +tag, so a suppressed
-- address blocks all its variants. Suppression never expires.
-- A table, not a view: it aggregates every event, and its tests, int_brand_suppressions,
-- dim_brands, seg_crm_handoff and the sync guard tests all read it (a view re-ran the aggregate
-- for each of them). Rebuilt whole on every build, so a key can also disappear (seed edits).
{{ config(materialized='table') }}

with

business_list as (

    select * from {{ ref('stg_suppression__list_keys') }}

),

events as (

    select * from {{ ref('stg_smartlead__events') }}

),

lead_categories as (

    select * from {{ ref('lead_categories') }}

),

from_business_list as (

    select
        key_type,
        suppression_key,
        reason,
        source,
        added_at as first_seen_at
    from business_list

),

event_keys as (

    -- events carry the canonical address; its key drops the +tag
    select
        {{ email_key_of_canonical('email') }} as email,
        suppression_reason,
        lead_category_new,
        event_at
    from events

),

email_events as (

    -- one pass over the events: the first event per address key, event suppression reason and
    -- lead category (the keys below only need the earliest time of each)
    select
        email,
        suppression_reason,
        lead_category_new,
        min(event_at) as first_event_at
    from event_keys
    group by email, suppression_reason, lead_category_new

),

from_event_types as (

    select
        'email' as key_type,
        email as suppression_key,
        suppression_reason as reason,
        'smartlead_events' as source,
        first_event_at as first_seen_at
    from email_events
    where suppression_reason is not null

),

from_lead_categories as (

    select
        'email' as key_type,
        email_events.email as suppression_key,
        lead_categories.suppression_reason as reason,
        'smartlead_lead_category' as source,
        email_events.first_event_at as first_seen_at
    from email_events
    inner join lead_categories
        on email_events.lead_category_new = lead_categories.category_name
    where lead_categories.suppression_reason is not null

),

from_sent_emails as (

    -- any event for an address means an email went out to it
    select
        'email' as key_type,
        email as suppression_key,
        'previously_contacted' as reason,
        'smartlead_events' as source,
        first_event_at as first_seen_at
    from email_events

),

unioned as (

    select * from from_business_list
    union all
    select * from from_event_types
    union all
    select * from from_lead_categories
    union all
    select * from from_sent_emails

),

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat(['key_type', "'|'", 'suppression_key', "'|'", 'reason'])) }} as suppression_id,
        key_type,
        suppression_key,

        -- dimensions
        reason,
        min(source) as source,

        -- timestamps
        min(first_seen_at) as first_seen_at

    from unioned
    where suppression_key is not null and suppression_key != ''
    group by key_type, suppression_key, reason

)

select * from final
