"""The Claude agent: one loop over the Messages API with sandboxed file and command tools."""
