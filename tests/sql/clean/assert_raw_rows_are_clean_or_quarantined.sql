-- Nothing vanishes: per entity, every RAW row is either a valid observation or quarantined.
with

counts as (

    select
        'smartscout_brands' as entity,
        (select count(*) from {{ source('smartscout', 'smartscout_brands') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_smartscout__brand_observations') }}
            where is_valid
        ) as clean_rows,
        (select count(*) from {{ ref('stg_smartscout__brands_quarantine') }}) as quarantined_rows
    union all
    select
        'apollo_people' as entity,
        (select count(*) from {{ source('apollo', 'apollo_people') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_apollo__contact_observations') }}
            where is_valid
        ) as clean_rows,
        (select count(*) from {{ ref('stg_apollo__contacts_quarantine') }}) as quarantined_rows
    union all
    select
        'smartlead_events' as entity,
        (select count(*) from {{ source('smartlead', 'smartlead_events') }}) as raw_rows,
        (
            select count(*) from {{ ref('stg_smartlead__event_observations') }}
            where is_valid
        ) as clean_rows,
        (select count(*) from {{ ref('stg_smartlead__events_quarantine') }}) as quarantined_rows

)

select *
from counts
where raw_rows != clean_rows + quarantined_rows
