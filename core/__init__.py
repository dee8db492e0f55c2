"""Domain of Cody Batch: models, state machine, ports, services and settings."""
