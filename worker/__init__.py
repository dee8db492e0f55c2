"""The per-repository pipeline: workspace, agent, validation, patch, publish."""
