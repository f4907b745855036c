-- No suppressed email, no address at a suppressed domain and no suppressed company domain is in
-- the outreach queue, for any reason. (Suppressed brands: assert_no_suppressed_brand_in_queue.)
{{ suppressed_rows(
    ref('seg_outreach_queue'),
    record_column='brand_id',
    email_column='email',
    domain_columns=['company_domain']
) }}
