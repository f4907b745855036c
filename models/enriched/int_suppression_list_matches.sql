-- Each business suppression-list entry (a row of either seed) with how many brands and contacts
-- it matches, so an entry that matches nothing (a typo, a name SmartScout spells otherwise, a slug
-- that is not the brand's name) is visible: `outreach build` prints them. Matching nothing is not
-- an error: the entry still guards against a brand or contact that arrives later.
with

list_keys as (

    select * from {{ ref('stg_suppression__list_keys') }}

),

brand_suppressions as (

    select * from {{ ref('int_brand_suppressions') }}

),

contacts as (

    select * from {{ ref('stg_apollo__contact_observations') }}
    where is_valid

),

brand_matches as (

    -- brand-level keys (name, slug, seller id, domain and its subdomains), any reason
    select distinct
        list_keys.entry_id,
        brand_suppressions.brand_id
    from list_keys
    inner join brand_suppressions
        on
            list_keys.key_type = brand_suppressions.matched_by
            and list_keys.suppression_key = brand_suppressions.suppression_key

),

contact_matches as (

    -- an email entry blocks the address (and its +tag variants) wherever it was found
    select distinct
        list_keys.entry_id,
        contacts.brand_id,
        contacts.email_key
    from list_keys
    inner join contacts
        on list_keys.suppression_key = contacts.email_key
    where list_keys.key_type = 'email'

),

entries as (

    select
        entry_id,
        min(list_name) as list_name,
        min(entry_label) as entry_label,
        min(reason) as reason,
        {{ dbt.listagg('key_type', "', '", 'order by key_type') }} as key_types,
        count(*) as key_count,
        sum(case when key_problem is not null then 1 else 0 end) as unusable_key_count
    from list_keys
    group by entry_id

),

matched_brands as (

    select
        entry_id,
        brand_id
    from brand_matches
    union
    select
        entry_id,
        brand_id
    from contact_matches

),

brand_counts as (

    select
        entry_id,
        count(distinct brand_id) as matched_brand_count
    from matched_brands
    group by entry_id

),

contact_counts as (

    select
        entry_id,
        count(distinct email_key) as matched_contact_count
    from contact_matches
    group by entry_id

),

final as (

    select
        -- ids
        entries.entry_id,

        -- dimensions
        entries.list_name,
        entries.entry_label,
        entries.key_types,
        entries.reason,
        coalesce(brand_counts.matched_brand_count, 0) = 0
        and coalesce(contact_counts.matched_contact_count, 0) = 0 as is_dead,

        -- measures
        entries.key_count,
        entries.unusable_key_count,
        coalesce(brand_counts.matched_brand_count, 0) as matched_brand_count,
        coalesce(contact_counts.matched_contact_count, 0) as matched_contact_count

    from entries
    left join brand_counts
        on entries.entry_id = brand_counts.entry_id
    left join contact_counts
        on entries.entry_id = contact_counts.entry_id

)

select * from final
