-- Contacts per brand, best first: verified email, then title/seniority rank from the
-- contact_title_ranks seed, then email for a deterministic tie-break.
with

contacts as (

    select * from {{ ref('stg_apollo__contacts') }}

),

title_ranks as (

    select
        match_type,
        trim({{ regexp_replace_all('lower(match_value)', '[^a-z0-9]+', ' ') }}) as match_value,
        title_rank
    from {{ ref('contact_title_ranks') }}

),

contacts_with_words as (

    select
        *,
        ' ' || trim({{ regexp_replace_all("lower(coalesce(title, ''))", '[^a-z0-9]+', ' ') }}) || ' ' as title_words
    from contacts

),

title_matches as (

    select
        contacts_with_words.contact_id,
        min(title_ranks.title_rank) as title_rank
    from contacts_with_words
    inner join title_ranks
        on
            title_ranks.match_type = 'title'
            and contacts_with_words.title_words like '% ' || title_ranks.match_value || ' %'
    group by contacts_with_words.contact_id

),

seniority_matches as (

    select
        contacts.contact_id,
        min(title_ranks.title_rank) as seniority_rank
    from contacts
    inner join title_ranks
        on
            title_ranks.match_type = 'seniority'
            and contacts.seniority = title_ranks.match_value
    group by contacts.contact_id

),

ranked as (

    select
        contacts.*,
        title_matches.title_rank,
        seniority_matches.seniority_rank,
        least(
            coalesce(title_matches.title_rank, 99),
            coalesce(seniority_matches.seniority_rank, 99)
        ) as contact_rank
    from contacts
    left join title_matches
        on contacts.contact_id = title_matches.contact_id
    left join seniority_matches
        on contacts.contact_id = seniority_matches.contact_id

),

final as (

    select
        -- ids
        contact_id,
        brand_id,
        email,
        email_key,
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

        -- measures
        title_rank,
        seniority_rank,
        contact_rank,
        row_number() over (
            partition by brand_id
            order by
                case when is_email_verified then 0 else 1 end,
                contact_rank,
                email
        ) as brand_contact_rank,

        -- timestamps
        matched_at

    from ranked

)

select * from final
