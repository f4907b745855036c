-- Nothing vanishes and nothing is counted twice. Per entity:
-- 1. every RAW row is either a valid observation or a quarantine row with a reason;
-- 2. the deduplicated CLEAN model has exactly one row per distinct key of the valid observations
--    (brand_id, email, event_id, lookup_id).
-- A row fails when either count does not add up. Incremental observations that missed a RAW
-- row (inserted with an old load id, say) show up here.
with

counts as (

    select
        'smartscout_brands' as entity,
        (select count(*) from {{ source('smartscout', 'smartscout_brands') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_smartscout__brand_observations') }}
            where is_valid
        ) as valid_rows,
        (
            select count(rejection_reason) from {{ ref('stg_smartscout__brands_quarantine') }}
        ) as quarantined_rows,
        (
            select count(distinct brand_id) from {{ ref('stg_smartscout__brand_observations') }}
            where is_valid
        ) as valid_keys,
        (select count(*) from {{ ref('stg_smartscout__brands') }}) as clean_rows
    union all
    select
        'apollo_people' as entity,
        (select count(*) from {{ source('apollo', 'apollo_people') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_apollo__contact_observations') }}
            where is_valid
        ) as valid_rows,
        (
            select count(rejection_reason) from {{ ref('stg_apollo__contacts_quarantine') }}
        ) as quarantined_rows,
        (
            select count(distinct email) from {{ ref('stg_apollo__contact_observations') }}
            where is_valid
        ) as valid_keys,
        (select count(*) from {{ ref('stg_apollo__contacts') }}) as clean_rows
    union all
    select
        'smartlead_events' as entity,
        (select count(*) from {{ source('smartlead', 'smartlead_events') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_smartlead__event_observations') }}
            where is_valid
        ) as valid_rows,
        (
            select count(rejection_reason) from {{ ref('stg_smartlead__events_quarantine') }}
        ) as quarantined_rows,
        (
            select count(distinct event_id) from {{ ref('stg_smartlead__event_observations') }}
            where is_valid
        ) as valid_keys,
        (select count(*) from {{ ref('stg_smartlead__events') }}) as clean_rows
    union all
    select
        'apollo_lookups' as entity,
        (select count(*) from {{ source('apollo', 'apollo_lookups') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_apollo__lookup_observations') }}
            where is_valid
        ) as valid_rows,
        (
            select count(rejection_reason) from {{ ref('stg_apollo__lookups_quarantine') }}
        ) as quarantined_rows,
        (
            select count(distinct lookup_id) from {{ ref('stg_apollo__lookup_observations') }}
            where is_valid
        ) as valid_keys,
        (select count(*) from {{ ref('stg_apollo__lookups') }}) as clean_rows

)

select * from counts
where
    raw_rows != valid_rows + quarantined_rows
    or valid_keys != clean_rows
