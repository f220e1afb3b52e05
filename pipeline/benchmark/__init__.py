"""Efficiency measurements (Table V): only the benchmark stage and the EmoXNet report import them, so a
change here re-runs no evaluation."""
