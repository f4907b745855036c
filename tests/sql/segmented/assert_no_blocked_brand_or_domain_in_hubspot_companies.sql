-- No company sent to HubSpot has a brand or domain with a reason that blocks the CRM hand-off.
-- Its brand was contacted and replied: `previously_contacted` does not block it.
{{ suppressed_rows(
    ref('sync_hubspot__companies'),
    record_column='outreach_brand_id',
    brand_column='outreach_brand_id',
    domain_columns=['domain'],
    blocking_only=true
) }}
