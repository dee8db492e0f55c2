"""Demo mode: the recorded Anthropic session, the endpoint that replays it, and the sample repository."""
