-- Every person Apollo returned for a brand, with a canonical email (macros/canonical_keys.sql:
-- folded to ASCII, format characters and trailing dots removed, lower-cased), its suppression
-- key (without the +tag) and the reason it cannot be used as a contact (if any). A row landed
-- under an id an earlier name normalization made belongs to the brand's id now
-- (stg_brand_id_aliases).
with

source as (

    select * from {{ source('apollo', 'apollo_people') }}

),

aliases as (

    select * from {{ ref('stg_brand_id_aliases') }}

),

aliased as (

    select
        source.*,
        aliases.brand_id as aliased_brand_id
    from source
    left join aliases
        on source.brand_id = aliases.old_brand_id

),

normalized as (

    select
        -- ids (the expressions read the source's columns: in the select list they take precedence
        -- over the aliases, here as on Snowflake)
        coalesce(aliased_brand_id, brand_id) as brand_id,
        brand_id as recorded_brand_id,
        person_id,
        {{ canonical_email('email') }} as email,
        {{ email_problem('email') }} as email_problem,

        -- dimensions
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(title), '') as title,
        lower(nullif(trim(seniority), '')) as seniority,
        lower(coalesce(nullif(trim(email_status), ''), 'unknown')) as email_status,
        nullif(trim(linkedin_url), '') as linkedin_url,
        nullif(trim(organization_name), '') as organization_name,
        nullif({{ canonical_domain('organization_domain') }}, '') as organization_domain,
        nullif(trim(organization_website_url), '') as organization_website_url,
        nullif(trim(country), '') as country,

        -- lineage
        email as email_as_sent,
        lookup_id,
        source_kind,
        {{ source_mode(source('apollo', 'apollo_people')) }} as source_mode,
        cast(matched_at as {{ dbt.type_timestamp() }}) as matched_at

    from aliased

),

with_reason as (

    select
        *,
        case
            when nullif(trim(brand_id), '') is null then 'missing brand_id'
            when email_problem = 'no email revealed' then email_problem
            -- Apollo's placeholder when the plan has not unlocked the address
            when email like 'email_not_unlocked@%' then 'email locked by Apollo'
            -- not plain ASCII local@domain.tld once canonical
            when email_problem is not null then email_problem
        end as rejection_reason
    from normalized

),

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat([
            "coalesce(recorded_brand_id, '')", "'|'", "coalesce(person_id, '')"
        ])) }} as contact_observation_id,
        brand_id,
        recorded_brand_id,
        person_id,
        email,
        {{ email_key_of_canonical('email') }} as email_key,
        split_part(email, '@', 2) as email_domain,

        -- dimensions
        first_name,
        last_name,
        title,
        seniority,
        email_status,
        email_status = 'verified' as is_email_verified,
        linkedin_url,
        organization_name,
        organization_domain,
        organization_website_url,
        country,

        -- quality and lineage
        rejection_reason,
        rejection_reason is null as is_valid,
        email_as_sent,
        lookup_id,
        source_kind,
        source_mode,
        matched_at

    from with_reason

)

select * from final
