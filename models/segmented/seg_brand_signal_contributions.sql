-- Each brand's points per scoring signal: the raw value, how it was scaled, and what it
-- contributed. Summing `contribution` per brand gives its score; this model answers
-- "why is this brand a B?".
with

signals as (

    select * from {{ ref('int_brand_signals') }}

),

weights as (

    select * from {{ ref('scoring_weights') }}

),

joined as (

    select
        signals.brand_id,
        weights.signal,
        weights.source_column,
        weights.scaling,
        weights.direction,
        weights.cap_value,
        weights.weight,
        weights.weights_version,
        signals.raw_value,
        -- explicit NULL first: DuckDB's greatest()/least() skip NULLs, Snowflake's return NULL
        case
            when signals.raw_value is null then null
            when weights.scaling = 'log_minmax' then ln(1 + greatest(signals.raw_value, 0))
            when weights.scaling = 'cap' then least(greatest(signals.raw_value, 0), weights.cap_value)
            else signals.raw_value
        end as transformed_value
    from signals
    inner join weights
        on signals.source_column = weights.source_column

),

with_bounds as (

    select
        *,
        min(transformed_value) over (partition by signal) as signal_min,
        max(transformed_value) over (partition by signal) as signal_max
    from joined

),

scaled as (

    select
        *,
        case
            when transformed_value is null then null
            when scaling = 'cap' then transformed_value / cap_value
            when scaling = 'boolean' then least(greatest(transformed_value, 0), 1)
            when signal_max > signal_min
                then (transformed_value - signal_min) / (signal_max - signal_min)
            else 0
        end as scaled_value
    from with_bounds

),

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat(['brand_id', "'|'", 'signal'])) }} as brand_signal_contribution_id,
        brand_id,
        signal,

        -- dimensions
        source_column,
        scaling,
        direction,
        weights_version,
        raw_value is null as is_missing,

        -- measures
        raw_value,
        round(scaled_value, 6) as scaled_value,
        weight,
        -- a missing value earns nothing, whichever direction is better
        round(
            case
                when scaled_value is null then 0
                when direction = 'lower_is_better' then weight * (1 - scaled_value)
                else weight * scaled_value
            end,
            4
        ) as contribution

    from scaled

)

select * from final
