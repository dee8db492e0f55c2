"""The AWS code path on one machine: moto server, an API Gateway stand-in, the stream poller, local Batch."""
