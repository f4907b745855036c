"""dlt loaders that land vendor data in the RAW layer (see docs/raw_layer.md)."""
