"""The control room (`outreach ui`): a read-only Streamlit app over the active dbt target.

`app.py` is the entry point `streamlit run` starts; `views/` holds one module per page, each with
the SQL it runs in small named functions (the tests compare their results with the models);
`reader.py` is the only place that opens the warehouse (read-only, one connection per query).
"""
