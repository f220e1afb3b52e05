"""Thin DVC stage entries: parse params, call `pipeline`, write outputs. Run as `python -m stages.<name>`."""
