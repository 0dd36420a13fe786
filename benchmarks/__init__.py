"""Fixed workloads, the per-agent Mesa peer, and the benchmark runner."""
