"""moto in-process: AWS clients pointed at it, and a DynamoStore on a table made from its definition."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from store.dynamo_table import create_table
from store.dynamodb import DynamoStore

REGION = "us-east-1"
TABLE = "cody-batch"
BUCKET = "cody-batch-artifacts"


def client(service: str) -> Any:
    """A boto3 client with dummy credentials (moto accepts any)."""
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@contextmanager
def dynamo_store() -> Iterator[DynamoStore]:
    """A DynamoStore over a fresh moto table and bucket, for as long as the block runs."""
    with mock_aws():
        dynamodb, s3 = client("dynamodb"), client("s3")
        create_table(dynamodb, TABLE)
        s3.create_bucket(Bucket=BUCKET)
        yield DynamoStore(dynamodb, s3, TABLE, BUCKET)
