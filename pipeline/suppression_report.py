"""What `outreach build` says about the business suppression lists: the entries that match no
brand and no contact (enriched.int_suppression_list_matches), so a typo or a spelling SmartScout
does not use is seen instead of trusted. A dead entry is kept (it still guards against a brand
that arrives later); the report only makes it visible."""

from __future__ import annotations

from warehouse_layer import Warehouse

# entries named one per line; the rest are counted (the model lists them all)
MAX_NAMED = 10


def dead_suppression_entries(warehouse: Warehouse) -> list[str]:
    """One line with the count, then one line per dead entry (at most MAX_NAMED); nothing when
    every entry matches something (or the model was not built)."""
    if not warehouse.table_exists("enriched", "int_suppression_list_matches"):
        return []
    rows = warehouse.fetch_dicts(
        "select list_name, entry_label, is_dead from enriched.int_suppression_list_matches"
        " order by list_name, entry_label"
    )
    dead = [row for row in rows if row["is_dead"]]
    if not dead:
        return []
    lines = [
        f"suppression list: {len(dead)} of {len(rows)} entries match no brand or contact "
        "(kept; check their spelling, or give a slug, domain or seller id):"
    ]
    lines += [f"suppression list: dead entry: {row['list_name']}: {row['entry_label']}" for row in dead[:MAX_NAMED]]
    if len(dead) > MAX_NAMED:
        lines.append(
            f"suppression list: ... and {len(dead) - MAX_NAMED} more "
            "(enriched.int_suppression_list_matches where is_dead)"
        )
    return lines
