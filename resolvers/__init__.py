"""What each GraphQL field does, over core services; never imports schema."""
