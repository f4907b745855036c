-- No contact sent to HubSpot has a company domain (`website`) with a reason that blocks the CRM
-- hand-off. (Emails, their domains and brands: assert_no_blocked_contact_in_hubspot_sync.)
{{ suppressed_rows(
    ref('sync_hubspot__contacts'),
    record_column='email',
    domain_columns=['website'],
    blocking_only=true
) }}
