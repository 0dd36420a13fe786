"""Fitting the model to data and to targets: diffusion closed forms, calibration to
observed sales, the cost-sigma frontier."""
