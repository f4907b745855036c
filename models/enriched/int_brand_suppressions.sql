-- Why a brand must not be contacted, one row per matching suppression key. A brand matches by
-- normalized name; by store slug, which is the slug of its storefront URL or, since SmartScout's
-- published brand schema has no storefrontUrl, its normalized name without spaces (Amazon store
-- slugs are the brand's name); by its dominant seller id (dominantSellerProfileId); by the domain
-- of any of its contacts (or a parent of that domain); or because one of its contacts' addresses
-- (any +tag variant) was emailed before. (Other email-level keys such as a bounce only block that
-- address; they are applied when the contact is chosen.) Every key is canonical on both sides
-- (macros/canonical_keys.sql).
with

brands as (

    select * from {{ ref('stg_smartscout__brands') }}

),

contacts as (

    -- all valid observations, not the one-brand-per-email view: an address found for two
    -- brands carries its history to both
    select * from {{ ref('stg_apollo__contact_observations') }}
    where is_valid

),

suppression_keys as (

    select * from {{ ref('stg_suppression__keys') }}

),

contact_domains as (

    select
        brand_id,
        email_domain as domain
    from contacts
    union
    select
        brand_id,
        organization_domain as domain
    from contacts
    where organization_domain is not null

),

domain_levels as (

    -- a suppressed domain covers its subdomains (acme.com blocks eu.acme.com and
    -- a.b.eu.acme.com), as the send-time guard does: each domain with its parents, up to five
    -- labels up, so the match stays an equality join
    select
        brand_id,
        domain as level_0,
        {{ regexp_replace_all('domain', '^([^.]+[.]){1}', '') }} as level_1,
        {{ regexp_replace_all('domain', '^([^.]+[.]){2}', '') }} as level_2,
        {{ regexp_replace_all('domain', '^([^.]+[.]){3}', '') }} as level_3,
        {{ regexp_replace_all('domain', '^([^.]+[.]){4}', '') }} as level_4,
        {{ regexp_replace_all('domain', '^([^.]+[.]){5}', '') }} as level_5
    from contact_domains

),

candidate_domains as (

    -- parents of two labels or more (never a bare top-level domain); a level past the top leaves
    -- the domain as it was, and the union drops the repeat
    select
        brand_id,
        level_0 as domain
    from domain_levels
    {%- for level in range(1, 6) %}
        union
        select
            brand_id,
            level_{{ level }} as domain
        from domain_levels
        where level_{{ level }} like '%.%'
    {%- endfor %}

),

brand_keys as (

    -- every value of a brand that a suppression key can name
    select
        brand_id,
        'brand_name' as key_type,
        normalized_brand_name as key_value
    from brands
    union
    select
        brand_id,
        'store_slug' as key_type,
        {{ store_slug_key('store_slug') }} as key_value
    from brands
    where store_slug is not null
    union
    select
        brand_id,
        'store_slug' as key_type,
        replace(normalized_brand_name, ' ', '') as key_value
    from brands
    union
    select
        brand_id,
        'seller_id' as key_type,
        dominant_seller_id as key_value
    from brands
    where dominant_seller_id is not null
    union
    select
        brand_id,
        'domain' as key_type,
        domain as key_value
    from candidate_domains
    union
    select
        brand_id,
        'email' as key_type,
        email_key as key_value
    from contacts

),

matches as (

    select
        brand_keys.brand_id,
        suppression_keys.suppression_id,
        suppression_keys.key_type,
        suppression_keys.suppression_key,
        suppression_keys.reason,
        suppression_keys.source,
        suppression_keys.first_seen_at
    from brand_keys
    inner join suppression_keys
        on
            brand_keys.key_type = suppression_keys.key_type
            and brand_keys.key_value = suppression_keys.suppression_key
    -- an email key suppresses the whole brand only when that address was emailed before
    where suppression_keys.key_type != 'email' or suppression_keys.reason = 'previously_contacted'

),

final as (

    select
        -- ids
        {{ dbt.hash(dbt.concat(['brand_id', "'|'", 'suppression_id'])) }} as brand_suppression_id,
        brand_id,
        suppression_id,

        -- dimensions
        key_type as matched_by,
        suppression_key,
        reason,
        source,

        -- timestamps
        first_seen_at

    from matches

)

select * from final
