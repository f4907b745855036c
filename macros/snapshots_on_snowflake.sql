{#- Snapshots: the staging table of a snapshot's second and later runs.

    dbt builds it with `create temporary table <database>.<schema>.<name>__dbt_tmp`. Snowflake
    accepts that, but the local Snowflake emulator the portability tests use (fakesnow, which runs
    on DuckDB) refuses a temporary table in a named schema ("TEMPORARY table names can *only* use
    the temp catalog"), so every snapshot run after the first one failed there. On Snowflake the
    staging table is therefore a transient table (valid on a real account too: no fail-safe
    storage, dropped by post_snapshot right after the snapshot is merged). Every other adapter
    keeps its own implementation (dbt-duckdb's, or dbt's global one).

    This overrides dbt's `build_snapshot_staging_table` (root-project macros win over internal
    ones) and dispatches it again, so only the Snowflake variant differs. -#}
{% macro build_snapshot_staging_table(strategy, sql, target_relation) %}
    {{ return(adapter.dispatch('build_snapshot_staging_table', 'brand_outreach')(strategy, sql, target_relation)) }}
{% endmacro %}

{% macro default__build_snapshot_staging_table(strategy, sql, target_relation) %}
    {#- `dbt.` is the internal namespace: the adapter's own macro, else dbt's global one -#}
    {{ return(dbt.build_snapshot_staging_table(strategy, sql, target_relation)) }}
{% endmacro %}

{% macro snowflake__build_snapshot_staging_table(strategy, sql, target_relation) %}
    {%- set staging_relation = make_temp_relation(target_relation) -%}
    {%- set select = snapshot_staging_table(strategy, sql, target_relation) -%}
    {% call statement('build_snapshot_staging_relation') %}
        {{ snowflake__create_table_transient_sql(staging_relation, select) }}
    {% endcall %}
    {{ return(staging_relation) }}
{% endmacro %}

{#- The transient staging table outlives the session (a temporary one would not): drop it. -#}
{% macro snowflake__post_snapshot(staging_relation) %}
    {% do drop_relation_if_exists(staging_relation) %}
{% endmacro %}

{#- The snapshot merge on Snowflake as an UPDATE (close the changed versions) and an INSERT (the
    new versions) in one explicit transaction, instead of dbt-snowflake's single MERGE. Same
    effect as dbt's MERGE (it is what dbt-postgres and dbt-duckdb run), valid Snowflake SQL, and
    the only form fakesnow executes: its MERGE rewrite fails on the snapshot's column list
    ("Ambiguous reference to column name"). -#}
{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) %}
    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}
    {%- set valid_to_current = config.get('dbt_valid_to_current') -%}
    {%- set dml -%}
        update {{ target.render() }} as dbt_internal_dest
        set {{ columns.dbt_valid_to }} = dbt_internal_source.{{ columns.dbt_valid_to }}
        from {{ source }} as dbt_internal_source
        where
            dbt_internal_source.{{ columns.dbt_scd_id }} = dbt_internal_dest.{{ columns.dbt_scd_id }}
            and dbt_internal_source.dbt_change_type in ('update', 'delete')
            {%- if valid_to_current %}
            and (
                {{ equals('dbt_internal_dest.' ~ columns.dbt_valid_to, valid_to_current) }}
                or dbt_internal_dest.{{ columns.dbt_valid_to }} is null
            )
            {%- else %}
            and dbt_internal_dest.{{ columns.dbt_valid_to }} is null
            {%- endif %};

        insert into {{ target.render() }} ({{ insert_cols | join(', ') }})
        select {% for column in insert_cols -%}
            dbt_internal_source.{{ column }}{{ ', ' if not loop.last }}
        {%- endfor %}
        from {{ source }} as dbt_internal_source
        where
            dbt_internal_source.dbt_change_type = 'insert'
            -- a MERGE never inserts a version whose id is already there
            and not exists (
                select 1 from {{ target.render() }} as dbt_internal_dest
                where dbt_internal_dest.{{ columns.dbt_scd_id }} = dbt_internal_source.{{ columns.dbt_scd_id }}
            )
    {%- endset %}
    {{ return(snowflake_dml_explicit_transaction(dml)) }}
{% endmacro %}
