"""Artifacts on the AWS store: small ones inline on their item, large ones in S3 by content."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from store import dynamo_table as table
from store.dynamo_table import ItemType

INLINE_LIMIT = 64 * 1024
"""Largest artifact kept on its item: a transaction carries several, and an item may not pass 400 KB."""


class ArtifactCorrupted(RuntimeError):
    """An S3 object no longer matches the sha256 its item recorded."""


class S3Artifacts:
    """Builds artifact items and reads them back, moving large bodies to S3 under their sha256."""

    def __init__(self, s3: Any, bucket: str, inline_limit: int = INLINE_LIMIT) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.inline_limit = inline_limit

    def item(self, key: str, data: bytes) -> dict[str, Any]:
        """The artifact's item; a large body is uploaded first and the item points at it."""
        item: dict[str, Any] = {**table.artifact_key(key), table.ITEM_TYPE: ItemType.ARTIFACT, "size": len(data)}
        if len(data) <= self.inline_limit:
            return {**item, "data": data}
        digest = hashlib.sha256(data).hexdigest()
        # Content-addressed: uploading before the transaction is safe (an object nothing
        # points at is harmless) and a rewrite of the same bytes is the same object.
        s3_key = f"artifacts/sha256/{digest}"
        self.s3.put_object(Bucket=self.bucket, Key=s3_key, Body=data, ChecksumSHA256=_b64(digest))
        return {**item, "s3_key": s3_key, "sha256": digest}

    def read(self, item: dict[str, Any]) -> bytes:
        """The artifact's bytes, checked against the recorded sha256 when they come from S3."""
        if "data" in item:
            return bytes(item["data"])
        body = self.s3.get_object(Bucket=self.bucket, Key=item["s3_key"])["Body"].read()
        if hashlib.sha256(body).hexdigest() != item["sha256"]:
            raise ArtifactCorrupted(f"artifact {item['s3_key']} does not match its sha256")
        return bytes(body)


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
