"""Tests of pipeline.reporting: paper values, tables, verdicts, the report stage."""
