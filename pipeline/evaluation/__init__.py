"""Evaluation: classification metrics, figures, the test-set stage work and benchmarking."""
