"""Store adapters: SQLite (default) and DynamoDB + S3; the GitHub pacer on DynamoDB."""
