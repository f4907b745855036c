-- Contacts for HubSpot's `POST /crm/v3/objects/contacts/batch/upsert` (idProperty=email),
-- one row per contact with every property we own (partial upserts by email are not
-- supported). Column names are HubSpot property names; values are text.
with

handoff as (

    select * from {{ ref('seg_crm_handoff') }}

),

final as (

    select
        -- id
        handoff.email,

        -- properties
        coalesce(handoff.first_name, '') as firstname,
        coalesce(handoff.last_name, '') as lastname,
        coalesce(handoff.title, '') as jobtitle,
        coalesce(handoff.brand_name, '') as company,
        coalesce(handoff.company_domain, '') as website,
        coalesce(handoff.brand_id, '') as outreach_brand_id,
        coalesce(handoff.segment, '') as outreach_segment,
        coalesce({{ decimal_text('handoff.score') }}, '') as outreach_score,
        coalesce(handoff.lead_category, '') as outreach_lead_category,
        {{ timestamp_iso_text("handoff.positive_reply_at") }} as outreach_positive_reply_at

    from handoff

)

select * from final
