"""A headless browser for what must be seen rendered: the analyze report in tests and docs figures, the Prefect UI.

Imported by no DVC stage (stdlib only), so changing it re-runs nothing.
"""
