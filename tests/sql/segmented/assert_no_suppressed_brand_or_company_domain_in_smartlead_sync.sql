-- No suppressed brand and no suppressed company domain (the lead's `website`) is in the Smartlead
-- payload, for any reason. (Emails and their domains:
-- assert_no_suppressed_email_or_domain_in_smartlead_sync.)
{{ suppressed_rows(
    ref('sync_smartlead__leads'),
    record_column='brand_id',
    brand_column='brand_id',
    domain_columns=['website']
) }}
