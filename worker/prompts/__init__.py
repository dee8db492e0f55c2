"""Prompt templates of the agent (package data): a frame and one guidance file per strategy."""
