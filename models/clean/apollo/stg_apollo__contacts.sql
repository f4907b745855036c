-- One row per email address, linked to the brand it was found for.
with

observations as (

    select * from {{ ref('stg_apollo__contact_observations') }}
    where is_valid

),

ranked as (

    select
        *,
        -- the same address found for two brands belongs to the latest lookup
        row_number() over (
            partition by email
            -- nulls last explicitly: Snowflake sorts NULLs first in a descending order, DuckDB last
            order by matched_at desc nulls last, brand_id asc, person_id asc
        ) as email_rank
    from observations

),

final as (

    select
        -- ids
        {{ dbt.hash('email') }} as contact_id,
        email,
        email_key,
        brand_id,
        person_id,
        email_domain,

        -- dimensions
        first_name,
        last_name,
        title,
        seniority,
        email_status,
        is_email_verified,
        linkedin_url,
        organization_name,
        organization_domain,
        organization_website_url,
        country,

        -- lineage
        source_mode,

        -- timestamps
        matched_at

    from ranked
    where email_rank = 1

)

select * from final
