"""Reverse ETL: sync_* models to Smartlead and HubSpot, behind the PIPELINE_MODE gate."""
