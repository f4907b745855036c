-- Brand ids made by another version of normalize_name, and the brand's id now: one row per old
-- id. Every brand name seen in RAW (SmartScout observations, Apollo lookups) is normalized with
-- each version (macros/normalize_name.sql); where the ids differ, the old one is an alias.
-- Rows keyed by brand_id across runs follow the brand through it: RAW Apollo rows (the
-- stg_apollo__* models and the enrich stage's TTL check), the sync ledger (rewritten by
-- `outreach build` and `outreach sync`) and the segment history.
{{ config(materialized='table') }}

with

smartscout_brands as (

    select * from {{ source('smartscout', 'smartscout_brands') }}

),

apollo_lookups as (

    select * from {{ source('apollo', 'apollo_lookups') }}

),

smartscout_names as (

    select
        upper(coalesce(nullif(trim(marketplace), ''), '{{ var("default_marketplace") }}')) as marketplace,
        brand_name,
        {{ raw_load_id_number('_dlt_load_id') }} as raw_load_id
    from smartscout_brands
    where nullif(trim(brand_name), '') is not null

),

marketplaces as (

    select distinct marketplace from smartscout_names

),

apollo_names as (

    -- a lookup records the brand's name but not its marketplace: every marketplace seen is tried
    -- (an alias for an id no brand had matches nothing, so it is harmless)
    select
        marketplaces.marketplace,
        apollo_lookups.brand_name,
        {{ raw_load_id_number('apollo_lookups._dlt_load_id') }} as raw_load_id
    from apollo_lookups
    cross join marketplaces
    where nullif(trim(apollo_lookups.brand_name), '') is not null

),

names as (

    select
        seen.marketplace,
        seen.brand_name,
        max(seen.raw_load_id) as last_raw_load_id
    from (
        select * from smartscout_names
        union all
        select * from apollo_names
    ) as seen
    group by seen.marketplace, seen.brand_name

),

identified as (

    select
        marketplace,
        brand_name,
        {{ brand_id('marketplace', normalize_name('brand_name')) }} as brand_id,
        {{ brand_id('marketplace', normalize_name_versioned('brand_name', '1')) }} as brand_id_v1,
        {{ brand_id('marketplace', normalize_name_versioned('brand_name', '2')) }} as brand_id_v2,
        last_raw_load_id
    from names

),

aliases as (

    -- one branch per version of normalize_name_versioned (a new version adds a column above and a
    -- branch here); the active version's ids equal brand_id, so they drop out
    select
        brand_id_v1 as old_brand_id,
        brand_id,
        '1' as old_version,
        marketplace,
        brand_name,
        last_raw_load_id
    from identified
    where brand_id_v1 != brand_id
    union all
    select
        brand_id_v2 as old_brand_id,
        brand_id,
        '2' as old_version,
        marketplace,
        brand_name,
        last_raw_load_id
    from identified
    where brand_id_v2 != brand_id

),

current_ids as (

    select distinct brand_id from identified
    where brand_id is not null

),

ranked as (

    -- spellings one old id covered can differ now ('Nature S' and 'Nature's' were one, are two):
    -- the old id follows the spelling seen last
    select
        aliases.*,
        row_number() over (
            partition by aliases.old_brand_id
            order by aliases.last_raw_load_id desc, aliases.brand_id asc, aliases.brand_name asc
        ) as alias_rank
    from aliases
    -- an old id that is some brand's id now stays that brand's
    left join current_ids
        on aliases.old_brand_id = current_ids.brand_id
    where current_ids.brand_id is null

),

final as (

    select
        -- ids
        old_brand_id,
        brand_id,

        -- dimensions
        old_version,
        marketplace,
        brand_name

    from ranked
    where alias_rank = 1

)

select * from final
