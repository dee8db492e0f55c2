"""The per-repository pipeline: workspace, agent, validation, patch, publish; checkpoints to resume from."""
