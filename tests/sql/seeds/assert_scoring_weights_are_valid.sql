-- Each weight is positive, `cap` scaling has a positive cap, and one weights version is active.
-- The failing rows are stored (store_failures), so `outreach build` prints their `problem`.
{{ config(store_failures=true) }}

with

weights as (

    select * from {{ ref('scoring_weights') }}

),

problems as (

    select
        signal,
        'scoring_weights: weight of signal ' || signal || ' must be positive (it is '
        || {{ number_text('weight') }} || ')' as problem
    from weights
    where weight <= 0
    union all
    select
        signal,
        'scoring_weights: signal ' || signal || ' uses cap scaling without a positive cap_value' as problem
    from weights
    where scaling = 'cap' and (cap_value is null or cap_value <= 0)
    union all
    select
        min(weights.signal) as signal,
        'scoring_weights: ' || cast(count(distinct weights_version) as {{ dbt.type_string() }})
        || ' weights versions (' || min(weights_version) || ' ... ' || max(weights_version)
        || '): one version is scored at a time' as problem
    from weights
    having count(distinct weights_version) > 1

)

select * from problems
