"""Prefect orchestration of the DVC pipeline: one Prefect task (and worker flow run) per DVC stage item."""
