-- Brand identity is the same on every warehouse: the real normalize_name macro and the brand_id
-- expression of stg_smartscout__brand_observations give each case of the
-- name_normalization_cases seed its expected name and md5. The unit tests only run on DuckDB;
-- this test also runs in the Snowflake-compatible (fakesnow) build. The cases are those of the
-- current version of normalize_name (2), also while an older one is active (var
-- name_normalization_version, a rollback).
with

cases as (

    select * from {{ ref('name_normalization_cases') }}

),

normalized as (

    select
        raw_name,
        marketplace,
        expected_normalized_name,
        expected_brand_id,
        {{ normalize_name_versioned('raw_name', '2') }} as normalized_name
    from cases

),

identified as (

    select
        *,
        {{ brand_id('marketplace', 'normalized_name') }} as brand_id
    from normalized

)

select * from identified
where
    normalized_name is distinct from expected_normalized_name
    or brand_id is distinct from expected_brand_id
