"""Data sources: one module per source (reader + Great Expectations checks), found by the registry.

``load_source`` gives the data exactly as it will be trained on (after FER+ voting, the RAF-DB
val split and duplicate removal); ``validate`` checks the raw files *and* that view.
"""
