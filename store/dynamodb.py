"""DynamoStore: the AWS store — one DynamoDB table (store/dynamo_table.py) plus S3 for large artifacts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from core.errors import ConflictError
from core.ids import iso, utcnow
from core.models import Event, Job, JobStatus, RepositoryRun
from core.ports import Change, Page
from store import dynamo_table as table
from store.dynamo_table import JOBS_BY_STATUS, JOBS_BY_TIME, JOBS_PARTITION, ItemType
from store.page_cursor import page_after, page_cursor
from store.s3_artifacts import S3Artifacts

_JOB_EXCLUDE = {"version", "last_seq"}
_RUN_EXCLUDE = {"version"}
# BatchGetItem takes at most 100 keys a call.
_BATCH_GET = 100
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def _dump(item: dict[str, Any]) -> Item:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: Item) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


class DynamoStore:
    """Store over one DynamoDB table and one S3 bucket; boto3 clients are handed in."""

    def __init__(self, dynamodb: Any, s3: Any, table_name: str, bucket: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.artifacts = S3Artifacts(s3, bucket)
        self.reads = 0

    def close(self) -> None:
        """Nothing to release: boto3 clients hold no connection that needs closing."""

    # -- writes ------------------------------------------------------------------------

    def commit(self, change: Change) -> list[Event]:
        """Apply rows, events and artifacts in one TransactWriteItems; ConflictError on a stale version."""
        writes, events = self.writes_for(change)
        self._transact(writes, f"job {change.job.id}")
        return events

    def writes_for(self, change: Change) -> tuple[list[Item], list[Event]]:
        """The conditional puts a commit of `change` makes, and its numbered events."""
        job = change.job
        last_seq, run_ids = self._job_state(job.id, change.job_version)
        now = utcnow()
        events = [
            Event(job_id=job.id, seq=last_seq + i + 1, at=now, **e.model_dump()) for i, e in enumerate(change.events)
        ]
        for run, _ in change.runs:
            run_ids[str(run.index)] = run.id
        writes = [self._job_put(job, change.job_version, last_seq + len(events), run_ids)]
        writes += [self._run_put(run, version) for run, version in change.runs]
        writes += [self._put(_event_item(e), new=True) for e in events]
        writes += [self._put(self.artifacts.item(key, data)) for key, data in change.artifacts.items()]
        return writes, events

    def _job_state(self, job_id: str, version: int | None) -> tuple[int, dict[str, str]]:
        """The job's last event sequence and run ids at `version`; ConflictError when it moved."""
        current = self._get(table.job_key(job_id))
        if version is None:
            if current is not None:
                raise ConflictError(f"job {job_id} already exists")
            return 0, {}
        if current is None or int(current["version"]) != version:
            raise ConflictError(f"job {job_id} changed since version {version}")
        return int(current["last_seq"]), dict(current.get("run_ids", {}))

    def _job_put(self, job: Job, version: int | None, last_seq: int, run_ids: dict[str, str]) -> Item:
        item = {
            **table.job_key(job.id),
            table.ITEM_TYPE: ItemType.JOB,
            "data": job.model_dump_json(exclude=_JOB_EXCLUDE),
            "version": (version or 0) + 1,
            "last_seq": last_seq,
            "status": job.status.value,
            "run_ids": run_ids,
            JOBS_BY_TIME.partition_key: JOBS_PARTITION,
            JOBS_BY_TIME.sort_key: job.id,
            JOBS_BY_STATUS.partition_key: table.status_partition(job.status.value),
            JOBS_BY_STATUS.sort_key: job.id,
        }
        return self._versioned_put(item, version)

    def _run_put(self, run: RepositoryRun, version: int | None) -> Item:
        item = {
            **table.run_key(run.id),
            table.ITEM_TYPE: ItemType.RUN,
            "data": run.model_dump_json(exclude=_RUN_EXCLUDE),
            "version": (version or 0) + 1,
            "job_id": run.job_id,
            "index": run.index,
        }
        return self._versioned_put(item, version)

    def _versioned_put(self, item: dict[str, Any], version: int | None) -> Item:
        if version is None:
            return self._put(item, new=True)
        put = self._put(item)
        put["Put"]["ConditionExpression"] = "version = :expected"
        put["Put"]["ExpressionAttributeValues"] = {":expected": {"N": str(version)}}
        return put

    def _put(self, item: dict[str, Any], new: bool = False) -> Item:
        put: Item = {"TableName": self.table_name, "Item": _dump(item)}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _transact(self, writes: list[Item], what: str) -> None:
        client = self.dynamodb
        try:
            client.transact_write_items(TransactItems=writes)
        except client.exceptions.TransactionCanceledException as error:
            # A failed condition is a stale writer; a TransactionConflict is another writer
            # on the same item at this instant: both mean "re-read and try again".
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if {"ConditionalCheckFailed", "TransactionConflict"} & set(reasons):
                failed = [f"{code} on write {i + 1}" for i, code in enumerate(reasons) if code not in (None, "None")]
                raise ConflictError(f"{what} changed while it was being written ({', '.join(failed)})") from None
            raise

    def put_artifact(self, key: str, data: bytes) -> None:
        self.dynamodb.put_item(TableName=self.table_name, Item=_dump(self.artifacts.item(key, data)))

    def cache_put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.dynamodb.put_item(TableName=self.table_name, Item=_dump(_cache_item(key, value, ttl_seconds)))

    def cache_add(self, key: str, value: str, ttl_seconds: int) -> bool:
        # A conditional put: of two concurrent adds DynamoDB lets exactly one through. An expired
        # item counts as absent, since TTL deletes it late.
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=_dump(_cache_item(key, value, ttl_seconds)),
                ConditionExpression="attribute_not_exists(#pk) OR #ttl <= :now",
                ExpressionAttributeNames={"#pk": table.PK, "#ttl": table.TTL_ATTRIBUTE},
                ExpressionAttributeValues=_dump({":now": Decimal(f"{time.time():.3f}")}),
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def cache_delete(self, key: str) -> None:
        self.dynamodb.delete_item(TableName=self.table_name, Key=_dump(table.cache_key(key)))

    # -- reads -------------------------------------------------------------------------

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        self.reads += 1
        found = self.dynamodb.get_item(TableName=self.table_name, Key=_dump(key), ConsistentRead=True)
        return _load(found["Item"]) if "Item" in found else None

    def _batch_get(self, keys: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        unique = list({(k[table.PK], k[table.SK]): k for k in keys}.values())
        items: list[dict[str, Any]] = []
        for start in range(0, len(unique), _BATCH_GET):
            chunk = [_dump(k) for k in unique[start : start + _BATCH_GET]]
            request = {self.table_name: {"Keys": chunk, "ConsistentRead": True}}
            while request:
                self.reads += 1
                answer = self.dynamodb.batch_get_item(RequestItems=request)
                items += [_load(i) for i in answer["Responses"].get(self.table_name, [])]
                request = answer.get("UnprocessedKeys") or {}
        return items

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.reads += 1
        answer = self.dynamodb.query(TableName=self.table_name, **kwargs)
        return [_load(i) for i in answer["Items"]]

    @staticmethod
    def _job(item: dict[str, Any]) -> Job:
        return Job.model_validate_json(item["data"]).model_copy(
            update={"version": int(item["version"]), "last_seq": int(item["last_seq"])}
        )

    @staticmethod
    def _run(item: dict[str, Any]) -> RepositoryRun:
        return RepositoryRun.model_validate_json(item["data"]).model_copy(update={"version": int(item["version"])})

    def get_job(self, job_id: str) -> Job | None:
        item = self._get(table.job_key(job_id))
        return self._job(item) if item else None

    def get_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        if not job_ids:
            return []
        found = {j.id: j for j in (self._job(i) for i in self._batch_get(table.job_key(i) for i in job_ids))}
        return [found.get(i) for i in job_ids]

    def list_jobs(self, first: int, after: str | None = None, status: JobStatus | None = None) -> Page:
        index = JOBS_BY_TIME if status is None else JOBS_BY_STATUS
        partition = JOBS_PARTITION if status is None else table.status_partition(status.value)
        condition = f"{index.partition_key} = :p"
        values: dict[str, Any] = {":p": partition}
        if after:
            condition += f" AND {index.sort_key} < :after"
            values[":after"] = page_after(after)
        items = self._query(
            IndexName=index.name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=_dump(values),
            ScanIndexForward=False,
            Limit=max(first, 0) + 1,
        )
        jobs = [self._job(i) for i in items[:first]]
        return Page(jobs=jobs, cursors=[page_cursor(job.id) for job in jobs], has_next=len(items) > first)

    def get_run(self, run_id: str) -> RepositoryRun | None:
        item = self._get(table.run_key(run_id))
        return self._run(item) if item else None

    def get_runs(self, job_ids: Sequence[str]) -> dict[str, list[RepositoryRun]]:
        out: dict[str, list[RepositoryRun]] = {i: [] for i in job_ids}
        jobs = self._batch_get(table.job_key(i) for i in job_ids)
        run_ids = [run_id for job in jobs for run_id in job.get("run_ids", {}).values()]
        runs = sorted((self._run(i) for i in self._batch_get(table.run_key(r) for r in run_ids)), key=_run_order)
        for run in runs:
            out[run.job_id].append(run)
        return out

    def list_events(self, job_id: str, after_seq: int = 0, limit: int = 100) -> list[Event]:
        if limit <= 0:
            return []
        items = self._query(
            KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=_dump(
                {
                    ":p": table.job_key(job_id)[table.PK],
                    ":lo": table.event_key(job_id, max(after_seq, -1) + 1)[table.SK],
                    ":hi": table.event_key(job_id, table.MAX_SEQ)[table.SK],
                }
            ),
            ConsistentRead=True,
            Limit=limit,
        )
        return [event_from_item(i) for i in items]

    def get_artifact(self, key: str) -> bytes | None:
        item = self._get(table.artifact_key(key))
        return None if item is None else self.artifacts.read(item)

    def cache_get(self, key: str) -> str | None:
        # DynamoDB's TTL deletes up to days late: an expired item may still be there.
        item = self._get(table.cache_key(key))
        if item is None or float(item[table.TTL_ATTRIBUTE]) <= time.time():
            return None
        return str(item["value"])


def _cache_item(key: str, value: str, ttl_seconds: int) -> dict[str, Any]:
    return {
        **table.cache_key(key),
        table.ITEM_TYPE: ItemType.CACHE,
        "value": value,
        table.TTL_ATTRIBUTE: Decimal(f"{time.time() + ttl_seconds:.3f}"),
    }


def _run_order(run: RepositoryRun) -> tuple[str, int]:
    return run.job_id, run.index


def _event_item(event: Event) -> dict[str, Any]:
    return {
        **table.event_key(event.job_id, event.seq),
        table.ITEM_TYPE: ItemType.EVENT,
        "job_id": event.job_id,
        "seq": event.seq,
        "run_id": event.run_id,
        "kind": event.kind.value,
        "old_value": event.old_value,
        "new_value": event.new_value,
        "at": iso(event.at),
    }


def job_state_check(table_name: str, job_id: str, last_seq: int) -> Item:
    """A TransactWriteItems `ConditionCheck` that the job is still at event `last_seq`."""
    return {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": _dump(table.job_key(job_id)),
            "ConditionExpression": "last_seq = :seq",
            "ExpressionAttributeValues": {":seq": {"N": str(last_seq)}},
        }
    }


def event_from_item(item: dict[str, Any]) -> Event:
    """An event as stored; also what the stream handler reads from a stream record's NewImage."""
    return Event.model_validate(
        {
            "job_id": item["job_id"],
            "seq": int(item["seq"]),
            "run_id": item.get("run_id"),
            "kind": item["kind"],
            "old_value": item.get("old_value"),
            "new_value": item.get("new_value"),
            "at": item["at"],
        }
    )
