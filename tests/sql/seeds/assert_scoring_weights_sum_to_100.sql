-- Weights of a version must add up to 100, so scores are 0-100. The failing rows are stored
-- (store_failures), so `outreach build` prints their `problem`.
{{ config(store_failures=true) }}

with

weights as (

    select * from {{ ref('scoring_weights') }}

),

totals as (

    select
        weights_version,
        sum(weight) as total_weight
    from weights
    group by weights_version

)

select
    weights_version,
    total_weight,
    'scoring_weights: weights of version ' || weights_version || ' sum to '
    || {{ number_text('total_weight') }} || ', not 100' as problem
from totals
where abs(total_weight - 100) > 0.0001
