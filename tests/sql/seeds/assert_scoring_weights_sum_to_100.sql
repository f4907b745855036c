-- Weights of a version must add up to 100, so scores are 0-100.
select
    weights_version,
    sum(weight) as total_weight,
    'weights of version ' || weights_version || ' do not sum to 100' as problem
from {{ ref('scoring_weights') }}
group by weights_version
having abs(sum(weight) - 100) > 0.0001
