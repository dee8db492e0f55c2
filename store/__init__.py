"""Store adapters: SQLite (default) and DynamoDB."""
