"""GitHub: repository gate and metadata, publishing branches and pull requests, their status and actions, pacing."""
