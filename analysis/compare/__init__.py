"""Paired comparisons of two scenarios: statistics, the report and its plots."""
