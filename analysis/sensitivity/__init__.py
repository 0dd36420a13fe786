"""Sensitivity of outcomes to parameters: indices, main effects, indices over time,
convergence, known-answer test functions and the choice of analysis for a sweep."""
