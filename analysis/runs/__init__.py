"""Replications of a scenario on any executor, and where an output came from."""
