"""Data: the table as store/dynamo_table.py defines it, and the artifacts bucket."""

from __future__ import annotations

from aws_cdk.assertions import Match

from store import dynamo_table
from tests.infra import cfn
from tests.infra.conftest import Assembly


def test_table_keys_indexes_stream_and_ttl_come_from_the_store_definition(assembly: Assembly) -> None:
    # GIVEN the table definition the DynamoDB store and `cody-batch aws bootstrap` use
    expected = dynamo_table.create_table_kwargs("any")
    # WHEN the stack is synthesized
    _, table = cfn.one(assembly.dev, "AWS::DynamoDB::GlobalTable")
    props = table["Properties"]
    # THEN the table has exactly those keys, indexes and stream, with TTL on expires_at
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert props["GlobalSecondaryIndexes"] == expected["GlobalSecondaryIndexes"]
    assert props["StreamSpecification"] == {"StreamViewType": expected["StreamSpecification"]["StreamViewType"]}
    ttl = dynamo_table.time_to_live_kwargs("any")["TimeToLiveSpecification"]
    assert props["TimeToLiveSpecification"] == ttl


def test_table_has_point_in_time_recovery_in_every_environment(assembly: Assembly) -> None:
    for template in (assembly.dev, assembly.prod):
        _, table = cfn.one(template, "AWS::DynamoDB::GlobalTable")
        (replica,) = table["Properties"]["Replicas"]
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_dev_is_on_demand_and_prod_provisioned_with_auto_scaling(assembly: Assembly) -> None:
    _, dev = cfn.one(assembly.dev, "AWS::DynamoDB::GlobalTable")
    _, prod = cfn.one(assembly.prod, "AWS::DynamoDB::GlobalTable")
    assert dev["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert prod["Properties"]["BillingMode"] == "PROVISIONED"
    scaling = prod["Properties"]["WriteProvisionedThroughputSettings"]["WriteCapacityAutoScalingSettings"]
    assert scaling["MinCapacity"] < scaling["MaxCapacity"]
    (replica,) = prod["Properties"]["Replicas"]
    read = replica["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]
    assert read["MinCapacity"] < read["MaxCapacity"]


def test_prod_keeps_its_data_when_the_stack_goes_and_dev_does_not(assembly: Assembly) -> None:
    _, prod = cfn.one(assembly.prod, "AWS::DynamoDB::GlobalTable")
    _, dev = cfn.one(assembly.dev, "AWS::DynamoDB::GlobalTable")
    assert prod["DeletionPolicy"] == "Retain"
    assert prod["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True
    assert dev["DeletionPolicy"] == "Delete"


def _artifacts_bucket(template: cfn.Template) -> tuple[str, cfn.Resource]:
    # The artifacts bucket is the one the table's readers are granted; the site bucket has no lifecycle.
    return cfn.one(template, "AWS::S3::Bucket", {"LifecycleConfiguration": Match.any_value()})


def test_artifacts_bucket_is_encrypted_private_and_expires_uploads(assembly: Assembly) -> None:
    _, bucket = _artifacts_bucket(assembly.dev)
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["cool-old-artifacts"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}
    ]


def test_every_bucket_refuses_plain_http(assembly: Assembly) -> None:
    buckets = cfn.find(assembly.dev, "AWS::S3::Bucket")
    policies = cfn.find(assembly.dev, "AWS::S3::BucketPolicy").values()
    for bucket_id in buckets:
        denies = [
            statement
            for policy in policies
            if policy["Properties"]["Bucket"] == cfn.ref(bucket_id)
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
        ]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), bucket_id
