"""Parameter sweeps: specs, sample plans, the resumable result store, running them."""
