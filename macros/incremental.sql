{#- Incremental CLEAN models (see docs/incremental.md).

    Each source has two incremental models: the observations (one row per RAW row, keyed by the
    RAW primary key) and the entity (one row per brand / event, keyed by its id). An incremental
    run reads only the RAW rows loaded since the last run (dlt's `_dlt_load_id`, minus a lookback),
    and rebuilds only the entities those rows belong to, from all of the entity's observations. -#}

{#- The strategy per adapter: rows of a touched key are replaced whole. -#}
{% macro incremental_strategy() %}
    {{ return(adapter.dispatch('incremental_strategy', 'brand_outreach')()) }}
{% endmacro %}

{#- dbt-duckdb 1.11 runs MERGE INTO (DuckDB >= 1.4): one atomic statement per model. -#}
{% macro default__incremental_strategy() %}
    {{ return('merge') }}
{% endmacro %}

{#- DELETE of the touched keys + INSERT, in one explicit transaction. Snowflake would take a MERGE
    too, but fakesnow (the emulator the portability tests build on) cannot run dbt's MERGE, and
    delete+insert is what those tests then prove works. -#}
{% macro snowflake__incremental_strategy() %}
    {{ return('delete+insert') }}
{% endmacro %}

{#- RAW load id (dlt's `_dlt_load_id`: the epoch seconds the load started, as text) as a number.
    It orders loads whatever the source put in its own time columns (a backfill or a test may
    load rows stamped in the past), which is what makes "loaded since the last run" exact. -#}
{% macro raw_load_id_number(load_id) -%}
    cast({{ load_id }} as {{ type_double() }})
{%- endmacro %}

{#- In an incremental run: true for rows whose load is newer than the newest load the model has
    processed (column `processed_load_id` of {{ this }}), minus `lookback_days`. The lookback
    covers loads that finish out of order (a load that started before the last run's newest one
    but committed after it): a row is picked again within the lookback, and the unique key makes
    that idempotent. Outside an incremental run: true. -#}
{% macro loaded_since_last_run(load_id, lookback_days, processed_load_id='raw_load_id') -%}
    {#- the lookback may come from an environment variable (dbt_project.yml): a number or nothing -#}
    {%- set days = (lookback_days | string | trim) | float(-1) -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error(
            "lookback must be a number of days >= 0, got '" ~ lookback_days ~ "' (vars *_lookback_days, OUTREACH_INCREMENTAL_LOOKBACK_DAYS)"
        ) }}
    {%- endif -%}
    {%- if is_incremental() -%}
        {{ load_id }} > (select coalesce(max({{ processed_load_id }}), 0) - {{ days }} * 86400 from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- In an incremental run: true for the rows whose `key` has a row in `relation` loaded since the
    last run (`loaded_since_last_run` on its `raw_load_id`), so an entity model rebuilds those
    entities from all of their observations. Outside an incremental run: true. -#}
{% macro key_loaded_since_last_run(key, relation, lookback_days, processed_load_id) -%}
    {%- if is_incremental() -%}
        {{ key }} in (select loaded.{{ key }} from {{ relation }} as loaded where {{ loaded_since_last_run('loaded.raw_load_id', lookback_days, processed_load_id) }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Configuration an incremental model has baked into its rows (a seed it joins), fingerprinted:
    every row stores the fingerprint it was built with, and the pre-hook below deletes the rows
    built with another one before the model runs. An edited seed therefore rebuilds the model
    from all of RAW on the next `dbt build`, as `--full-refresh` would, without anyone asking. -#}
{#- `canonical-email-v2`: the version of the address canonicalization (macros/canonical_keys.sql)
    the rows were keyed with; bumping it rebuilds the event models like a seed edit. -#}
{% macro smartlead_event_types_fingerprint() -%}
    (
        select
            'canonical-email-v2:' || {{ dbt.hash(dbt.listagg(
                dbt.concat([
                    "spelling", "'='", "coalesce(event_type, '')",
                    "'/'", "coalesce(cast(is_email_sent as " ~ dbt.type_string() ~ "), '')",
                    "'/'", "coalesce(suppression_reason, '')"
                ]),
                "';'",
                "order by spelling"
            )) }}
        from {{ ref('smartlead_event_types') }}
    )
{%- endmacro %}

{#- Pre-hook: in an incremental run, delete the rows built with another configuration. -#}
{% macro delete_rows_of_other_configuration(fingerprint_column, fingerprint_sql) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ fingerprint_column }} is null
            or {{ fingerprint_column }} != {{ fingerprint_sql }}
    {%- endif -%}
{%- endmacro %}

{#- The same for any small seed: an md5 of its rows (the given columns, as text, in a stable
    order). Each warehouse renders numbers its own way, so a fingerprint is only ever compared
    with one made by the same warehouse. -#}
{% macro seed_fingerprint(seed_name, columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first -%}{%- do parts.append("'/'") -%}{%- endif -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
    {%- endfor -%}
    (
        select
            {{ dbt.hash(dbt.listagg(
                dbt.concat(parts),
                "';'",
                "order by " ~ columns | join(', ')
            )) }}
        from {{ ref(seed_name) }}
    )
{%- endmacro %}

{#- What seg_brand_signal_contributions bakes into its rows: the scoring weights. -#}
{% macro scoring_weights_fingerprint() -%}
    {{ seed_fingerprint(
        'scoring_weights',
        ['signal', 'source_column', 'scaling', 'direction', 'cap_value', 'weight', 'weights_version']
    ) }}
{%- endmacro %}

{#- What the incremental brand models (stg_smartscout__brand_observations, stg_smartscout__brands,
    int_brand_signals) bake into their rows through brand_id: the name normalization. The
    version of normalize_name and, from version 2, the confusables seed it reads. -#}
{% macro name_normalization_fingerprint() -%}
    {%- set version = var('name_normalization_version') | string | trim -%}
    {%- if version == '1' -%}
        cast('v1' as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ dbt.concat(["'v" ~ version ~ ":'", seed_fingerprint('name_confusables', ['character', 'replacement'])]) }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- Pre-hooks of those models: rows made with another normalization have other brand ids, so they
    are deleted and the model rebuilds them from all of RAW (its watermark is read from itself).
    A table built before the column existed was built with version 1: the first hook adds the
    column (NULL: deleted by the second), so on_schema_change='fail' has nothing to refuse. -#}
{% macro add_name_normalization_column(also=[]) -%}
    {{ add_missing_text_columns(['name_normalization'] + also) }}
{%- endmacro %}

{#- Pre-hook: in an incremental run, add the text columns a release gave the model (NULL in the
    rows built before, which the model's other pre-hook deletes and rebuilds from RAW), so an
    upgrade needs no --full-refresh and on_schema_change='fail' has nothing to refuse. One
    statement each (Snowflake runs one statement per call); the hook itself renders empty. -#}
{% macro add_missing_text_columns(new_columns) -%}
    {%- if is_incremental() and execute -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- for column in new_columns if column not in columns -%}
            {%- do run_query('alter table ' ~ this ~ ' add column ' ~ column ~ ' ' ~ dbt.type_string()) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro delete_rows_of_other_name_normalization() -%}
    {{ delete_rows_of_other_configuration('name_normalization', name_normalization_fingerprint()) }}
{%- endmacro %}
