"""Run inside a Lambda bundle with the Lambda's Python: invoke http_handler with one API Gateway event.

Usage: python3.12 -I lambda_invoke.py BUNDLE_DIR QUERY — prints the handler's answer as JSON.
"""

from __future__ import annotations

import json
import sys

sys.path.insert(0, sys.argv[1])

import server.lambdas

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
event = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/graphql",
    "rawQueryString": "",
    "headers": {"content-type": "application/json", "accept": "application/json", "host": HOST},
    "requestContext": {
        "http": {
            "method": "POST",
            "path": "/graphql",
            "sourceIp": "192.0.2.1",
            "protocol": "HTTP/1.1",
            "userAgent": "t",
        },
        "domainName": HOST,
        "stage": "$default",
        "requestId": "request",
        "routeKey": "$default",
        "accountId": "123456789012",
        "apiId": "abc123",
        "time": "30/Nov/2026:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "body": json.dumps({"query": sys.argv[2]}),
    "isBase64Encoded": False,
}
print(json.dumps(server.lambdas.http_handler(event, None)))
print(
    json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {"worker", "anthropic", "git", "github"}))
)
