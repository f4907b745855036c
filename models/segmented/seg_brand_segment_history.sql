-- When did a brand enter or leave a segment, under which weights version: one row per brand and
-- membership period, from the snapshot snap_brand_segments. The snapshot takes a new version on
-- every score change; consecutive versions with the same segment and weights version are one
-- period. A period ends when the segment or the weights version changes, or when the brand
-- dropped out of scoring (the snapshot invalidates it; if it comes back, a new period starts).
-- Versions recorded under an id an earlier name normalization made belong to the brand's id now
-- (stg_brand_id_aliases): the snapshot closed them when the id changed and opened the new id's
-- version at the same moment, so the brand's period goes on.
with

snapshot_versions as (

    select * from {{ ref('snap_brand_segments') }}

),

aliases as (

    select * from {{ ref('stg_brand_id_aliases') }}

),

versions as (

    select
        coalesce(aliases.brand_id, snapshot_versions.brand_id) as brand_id,
        snapshot_versions.segment,
        snapshot_versions.weights_version,
        snapshot_versions.score,
        snapshot_versions.dbt_scd_id,
        snapshot_versions.dbt_valid_from,
        snapshot_versions.dbt_valid_to
    from snapshot_versions
    left join aliases
        on snapshot_versions.brand_id = aliases.old_brand_id

),

compared as (

    select
        brand_id,
        segment,
        weights_version,
        score,
        dbt_scd_id,
        dbt_valid_from,
        dbt_valid_to,
        lag(segment) over (partition by brand_id order by dbt_valid_from) as previous_version_segment,
        lag(weights_version) over (
            partition by brand_id order by dbt_valid_from
        ) as previous_version_weights_version,
        lag(dbt_valid_to) over (partition by brand_id order by dbt_valid_from) as previous_version_valid_to
    from versions

),

flagged as (

    select
        *,
        case
            -- the brand's first version
            when previous_version_valid_to is null then 1
            -- segment and weights_version are never NULL (tests on seg_brand_scores and the seed)
            when segment != previous_version_segment then 1
            when weights_version != previous_version_weights_version then 1
            -- the brand was out of scoring in between (hard delete, then back)
            when dbt_valid_from != previous_version_valid_to then 1
            else 0
        end as starts_period
    from compared

),

numbered as (

    select
        *,
        sum(starts_period) over (
            partition by brand_id order by dbt_valid_from rows between unbounded preceding and current row
        ) as period_number
    from flagged

),

ranked as (

    select
        *,
        row_number() over (
            partition by brand_id, period_number order by dbt_valid_from asc
        ) as version_from_start,
        row_number() over (
            partition by brand_id, period_number order by dbt_valid_from desc
        ) as version_from_end
    from numbered

),

periods as (

    select
        brand_id,
        period_number,
        segment,
        weights_version,
        max(case when version_from_start = 1 then dbt_scd_id end) as first_version_id,
        min(dbt_valid_from) as entered_at,
        -- NULL while the last version is still valid
        max(case when version_from_end = 1 then dbt_valid_to end) as left_at,
        max(case when version_from_start = 1 then score end) as score_on_entry,
        max(case when version_from_end = 1 then score end) as last_score,
        count(*) as score_versions
    from ranked
    group by brand_id, period_number, segment, weights_version

),

final as (

    select
        -- ids
        first_version_id as segment_membership_id,
        brand_id,

        -- dimensions
        segment,
        weights_version,
        lag(segment) over (partition by brand_id order by entered_at) as previous_segment,
        lead(segment) over (partition by brand_id order by entered_at) as next_segment,
        left_at is null as is_current,
        period_number as membership_number,

        -- measures
        score_on_entry,
        last_score,
        score_versions,
        -- now as a timestamp without time zone, like the snapshot's times (UTC on Snowflake)
        {{ dbt.datediff(
            'entered_at',
            'coalesce(left_at, cast(' ~ dbt.current_timestamp() ~ ' as ' ~ dbt.type_timestamp() ~ '))',
            'day'
        ) }} as days_in_segment,

        -- timestamps
        entered_at,
        left_at

    from periods

)

select * from final
