"""GitHub: repository gate and metadata, publishing branches and pull requests."""
