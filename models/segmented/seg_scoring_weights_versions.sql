-- Every scoring_weights version ever built, with the fingerprint of its weights the first time it
-- was built. assert_scoring_weights_version_is_unchanged compares the seed with this record, so
-- one weights_version never labels two different scorings in history and segment performance.
-- full_refresh=false: `outreach build --full-refresh` must not erase what was recorded.
{{
    config(
        materialized='incremental',
        unique_key='weights_version',
        incremental_strategy=incremental_strategy(),
        tmp_relation_type='transient',
        full_refresh=false,
        on_schema_change='fail'
    )
}}

with

weights as (

    select * from {{ ref('scoring_weights') }}

),

current_version as (

    -- one version at a time (assert_scoring_weights_are_valid runs first and stops the build otherwise)
    select distinct
        weights_version,
        {{ scoring_weights_fingerprint() }} as weights_fingerprint,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as first_recorded_at
    from weights

)

select * from current_version
{% if is_incremental() %}
    -- a version already recorded keeps its first fingerprint: the test compares against it
    where weights_version not in (select recorded.weights_version from {{ this }} as recorded)
{% endif %}
