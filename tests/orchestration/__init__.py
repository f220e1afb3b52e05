"""Tests of pipeline/orchestration: the pieces on a toy DVC project, and the flows on a real local Prefect server."""
