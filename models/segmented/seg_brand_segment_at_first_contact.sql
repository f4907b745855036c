-- The segment and weights version each contacted brand had when it was first contacted, so
-- outcomes are credited to the segment that sent the email, not to the one the brand is in today.
-- From the membership history (seg_brand_segment_history, built from the snapshot): the period
-- that covers the first contact. When the history does not cover it, a fallback, named in
-- `segment_attribution`:
--   at_first_contact           the period that covers the first contact time
--   first_known_after_contact  the contact predates the history (events older than the first
--                              snapshot, or a gap): the earliest period after it
--   last_known_before_contact  the brand had dropped out of scoring when contacted: its last period
--   current_segment            no history for the brand at all: its current segment
--   not_scored                 neither (a brand with events but no score): segment NULL
with

outreach_history as (

    select * from {{ ref('int_brand_outreach_history') }}

),

memberships as (

    select * from {{ ref('seg_brand_segment_history') }}

),

scores as (

    select * from {{ ref('seg_brand_scores') }}

),

candidates as (

    select
        outreach_history.brand_id,
        outreach_history.first_contacted_at,
        memberships.segment_membership_id,
        memberships.segment,
        memberships.weights_version,
        memberships.entered_at,
        case
            when
                memberships.entered_at <= outreach_history.first_contacted_at
                and (memberships.left_at is null or outreach_history.first_contacted_at < memberships.left_at)
                then 'at_first_contact'
            when memberships.entered_at > outreach_history.first_contacted_at then 'first_known_after_contact'
            else 'last_known_before_contact'
        end as segment_attribution
    from outreach_history
    inner join memberships
        on outreach_history.brand_id = memberships.brand_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by brand_id
            order by
                case segment_attribution
                    when 'at_first_contact' then 1
                    when 'first_known_after_contact' then 2
                    else 3
                end,
                -- the nearest period: earliest after the contact, or latest before it
                case when segment_attribution = 'first_known_after_contact' then entered_at end asc nulls last,
                case when segment_attribution = 'last_known_before_contact' then entered_at end desc nulls last
        ) as attribution_rank
    from candidates

),

final as (

    select
        -- ids
        outreach_history.brand_id,
        ranked.segment_membership_id,

        -- dimensions
        coalesce(ranked.segment, scores.segment) as segment,
        coalesce(ranked.weights_version, scores.weights_version) as weights_version,
        case
            when ranked.segment_attribution is not null then ranked.segment_attribution
            when scores.brand_id is not null then 'current_segment'
            else 'not_scored'
        end as segment_attribution,
        scores.segment as current_segment,
        scores.weights_version as current_weights_version,

        -- measures
        outreach_history.emails_sent,
        outreach_history.has_replied,
        outreach_history.has_positive_reply,

        -- timestamps
        outreach_history.first_contacted_at

    from outreach_history
    left join ranked
        on
            outreach_history.brand_id = ranked.brand_id
            and ranked.attribution_rank = 1
    left join scores
        on outreach_history.brand_id = scores.brand_id

)

select * from final
