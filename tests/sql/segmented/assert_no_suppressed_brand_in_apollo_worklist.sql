-- No Apollo credit is spent on a suppressed brand, for any reason (the work list has no email or
-- domain column: its brands have no usable contact yet).
{{ suppressed_rows(
    ref('seg_apollo_worklist'),
    record_column='brand_id',
    brand_column='brand_id'
) }}
