-- No brand that matches any suppression key, or was contacted before, is ever queued.
select
    queue.brand_id,
    brand_suppressions.reason
from {{ ref('seg_outreach_queue') }} as queue
inner join {{ ref('int_brand_suppressions') }} as brand_suppressions
    on queue.brand_id = brand_suppressions.brand_id
