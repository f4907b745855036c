-- No person in the CRM hand-off has a brand, email, email domain or company domain with a reason
-- that blocks the hand-off (clients, do-not-contact, unsubscribed, bounced, complained). These
-- people replied, so they were contacted: `previously_contacted` does not block them.
{{ suppressed_rows(
    ref('seg_crm_handoff'),
    record_column='email',
    brand_column='brand_id',
    email_column='email',
    domain_columns=['company_domain'],
    blocking_only=true
) }}
