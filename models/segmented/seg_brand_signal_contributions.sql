-- Each brand's points per scoring signal: the raw value, how it was scaled, and what it
-- contributed. Summing `contribution` per brand gives its score; this model answers
-- "why is this brand a B?".
-- Incremental (docs/incremental.md), exact although min-max scaling is relative to every brand:
-- each row stores the bounds it was scaled with, and a run recomputes the rows that are new,
-- whose raw value changed, or whose signal's population min or max moved (then every brand of
-- that signal); any other row has the same raw value, bounds and weights, so the same
-- contribution. Rows are replaced on (brand_id, signal). An edited scoring_weights seed (another
-- fingerprint) makes the pre-hook empty the table first, so everything is recomputed; so does
-- another name normalization (brand ids change).
-- depends_on: {{ ref('seg_scoring_weights_versions') }}
-- (so assert_scoring_weights_version_is_unchanged runs, and stops the build, before scoring)
{{
    config(
        materialized='incremental',
        unique_key=['brand_id', 'signal'],
        incremental_strategy=incremental_strategy(),
        tmp_relation_type='transient',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_rows_of_other_configuration('weights_fingerprint', scoring_weights_fingerprint()) }}",
            "{{ add_name_normalization_column() }}",
            "{{ delete_rows_of_other_name_normalization() }}"
        ]
    )
}}

with

signals as (

    select * from {{ ref('int_brand_signals') }}

),

weights as (

    select * from {{ ref('scoring_weights') }}

),

scalable_signals as (

    -- CLEAN quarantines NaN, infinite and out-of-range measures; should one still arrive (a
    -- 'nan'::double reaches both warehouses' casts), it is a missing value, never a bound: one
    -- NaN in min() / max() would make every brand's scaled value NaN
    select
        brand_id,
        source_column,
        case when {{ is_scalable_number('raw_value') }} then raw_value end as raw_value
    from signals

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
    from scalable_signals as signals
    inner join weights
        on signals.source_column = weights.source_column

),

bounds as (

    -- the population every brand of a signal is scaled over
    select
        signal,
        min(transformed_value) as signal_min,
        max(transformed_value) as signal_max
    from joined
    group by signal

),

{% if is_incremental() %}
    previous_bounds as (

        -- the bounds the stored rows were scaled with (the same for every row of a signal)
        select
            signal,
            min(signal_min) as signal_min,
            max(signal_max) as signal_max
        from {{ this }}
        group by signal

    ),

    previous_values as (

        select
            brand_id,
            signal,
            raw_value
        from {{ this }}

    ),
{% endif %}

with_bounds as (

    select
        joined.*,
        bounds.signal_min,
        bounds.signal_max
    from joined
    inner join bounds
        on joined.signal = bounds.signal
    {% if is_incremental() %}
        -- only the rows whose inputs differ from those the stored row was computed from: new,
        -- another raw value, or other bounds (then every brand of the signal)
        left join previous_bounds
            on joined.signal = previous_bounds.signal
        left join previous_values
            on
                joined.brand_id = previous_values.brand_id
                and joined.signal = previous_values.signal
        where
            previous_values.brand_id is null
            or joined.raw_value is distinct from previous_values.raw_value
            or previous_bounds.signal is null
            or bounds.signal_min is distinct from previous_bounds.signal_min
            or bounds.signal_max is distinct from previous_bounds.signal_max
    {% endif %}

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
        ) as contribution,
        -- the population bounds the value was scaled by (NULL when no brand has a value)
        signal_min,
        signal_max,

        -- lineage: the scoring weights the row was computed with, and the name normalization its
        -- brand_id comes from (rows of another one of either are recomputed)
        {{ scoring_weights_fingerprint() }} as weights_fingerprint,
        {{ name_normalization_fingerprint() }} as name_normalization

    from scaled

)

select * from final
