"""Reporting: the paper's values, our tables beside them, the verdict page."""
