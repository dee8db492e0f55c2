"""Strawberry types, inputs and the root Query/Mutation/Subscription."""
