"""Data: the one DynamoDB table (built from store/dynamo_table.py) and the artifacts bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.environments import Capacity
from store import dynamo_table


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _billing(capacity: Capacity) -> dynamodb.Billing:
    if capacity.on_demand:
        return dynamodb.Billing.on_demand()
    return dynamodb.Billing.provisioned(
        read_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.min_read, max_capacity=capacity.max_read),
        write_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.min_write, max_capacity=capacity.max_write),
    )


def removal_policy(retain: bool) -> RemovalPolicy:
    """RETAIN for data a deletion must not take with it (prod), DESTROY otherwise (dev)."""
    return RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY


def private_bucket(scope: Construct, construct_id: str, *, retain: bool, **props: Any) -> s3.Bucket:
    """An S3-encrypted bucket no one reaches without a grant, over TLS only; emptied and deleted unless retained."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        removal_policy=removal_policy(retain),
        auto_delete_objects=not retain,
        **props,
    )


class Data(Construct):
    """The table with its stream, TTL and point-in-time recovery; the encrypted artifacts bucket."""

    table: dynamodb.TableV2
    bucket: s3.Bucket

    def __init__(self, scope: Construct, construct_id: str, *, capacity: Capacity, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=_string(dynamo_table.PK),
            sort_key=_string(dynamo_table.SK),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_string(index.partition_key),
                    sort_key=_string(index.sort_key),
                    projection_type=dynamodb.ProjectionType(index.projection),
                )
                for index in dynamo_table.INDEXES
            ],
            dynamo_stream=dynamodb.StreamViewType(dynamo_table.STREAM_VIEW),
            time_to_live_attribute=dynamo_table.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            billing=_billing(capacity),
            deletion_protection=retain,
            removal_policy=removal_policy(retain),
        )
        self.bucket = private_bucket(
            self,
            "Artifacts",
            retain=retain,
            versioned=False,  # keys are content hashes: an object is never overwritten with other bytes
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
                s3.LifecycleRule(
                    id="cool-old-artifacts",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING, transition_after=Duration.days(30)
                        )
                    ],
                ),
            ],
        )
