"""The running operator: one scheduler loop for all jobs, wired to the adapters."""
