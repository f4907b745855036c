-- A weights_version names one set of weights for good: scores, snapshots and segment performance
-- carry it. Weights edited under a version that was built before fail the build before any
-- scoring model reads them (seg_brand_signal_contributions depends on the record, so this test
-- runs first). The failing rows are stored (store_failures), so `outreach build` prints `problem`.
{{ config(store_failures=true) }}

with

weights as (

    select * from {{ ref('scoring_weights') }}

),

recorded as (

    select * from {{ ref('seg_scoring_weights_versions') }}

),

current_weights as (

    select distinct
        weights_version,
        {{ scoring_weights_fingerprint() }} as weights_fingerprint
    from weights

)

select
    current_weights.weights_version,
    recorded.first_recorded_at,
    'scoring_weights version ' || current_weights.weights_version
    || ' was built before with other weights: give the new weights a new weights_version' as problem
from current_weights
inner join recorded
    on current_weights.weights_version = recorded.weights_version
where current_weights.weights_fingerprint != recorded.weights_fingerprint
