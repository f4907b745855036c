-- Each weight is positive, `cap` scaling has a positive cap, and one weights version is active.
with

weights as (

    select * from {{ ref('scoring_weights') }}

),

problems as (

    select
        signal,
        'weight must be positive' as problem
    from weights
    where weight <= 0
    union all
    select
        signal,
        'cap scaling needs a positive cap_value' as problem
    from weights
    where scaling = 'cap' and (cap_value is null or cap_value <= 0)
    union all
    select
        min(weights.signal) as signal,
        'more than one weights_version in scoring_weights' as problem
    from weights
    having count(distinct weights_version) > 1

)

select * from problems
