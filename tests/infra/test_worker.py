"""Worker: Batch on Fargate, the retry rules, the time limit, logs and what a run may touch."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from aws_cdk.assertions import Match

from infra.sources import ROOT
from tests.infra import cfn
from tests.infra.conftest import ALLOWED, Assembly


def _job(template: cfn.Template) -> cfn.Resource:
    return cfn.one(template, "AWS::Batch::JobDefinition")[1]


def test_compute_environment_is_fargate_spot_in_dev_and_on_demand_in_prod(assembly: Assembly) -> None:
    for template, kind in ((assembly.dev, "FARGATE_SPOT"), (assembly.prod, "FARGATE")):
        _, compute = cfn.one(template, "AWS::Batch::ComputeEnvironment")
        resources = compute["Properties"]["ComputeResources"]
        assert compute["Properties"]["Type"] == "managed"
        assert resources["Type"] == kind
        assert resources["MaxvCpus"] > 0
        assert resources["Subnets"] and resources["SecurityGroupIds"]


def test_job_queue_feeds_the_compute_environment(assembly: Assembly) -> None:
    compute_id, _ = cfn.one(assembly.dev, "AWS::Batch::ComputeEnvironment")
    _, queue = cfn.one(assembly.dev, "AWS::Batch::JobQueue")
    assert queue["Properties"]["ComputeEnvironmentOrder"] == [
        {"ComputeEnvironment": cfn.arn(compute_id, "ComputeEnvironmentArn"), "Order": 1}
    ]


def test_tasks_accept_nothing_inbound_and_send_only_https(assembly: Assembly) -> None:
    _, group = cfn.one(assembly.dev, "AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in group["Properties"]
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert not cfn.find(assembly.dev, "AWS::EC2::NatGateway"), "public subnets, no NAT gateway"


def test_tasks_run_in_the_vpcs_public_subnets(assembly: Assembly) -> None:
    vpc_id, _ = cfn.one(assembly.dev, "AWS::EC2::VPC")
    subnets = cfn.find(assembly.dev, "AWS::EC2::Subnet", {"VpcId": cfn.ref(vpc_id)})
    assert len(subnets) == 2, "two availability zones"
    assert all(subnet["Properties"]["MapPublicIpOnLaunch"] is True for subnet in subnets.values())
    _, compute = cfn.one(assembly.dev, "AWS::Batch::ComputeEnvironment")
    assert sorted(map(str, compute["Properties"]["ComputeResources"]["Subnets"])) == sorted(
        str(cfn.ref(subnet_id)) for subnet_id in subnets
    )


def test_retries_only_lost_capacity_and_exits_on_anything_else(assembly: Assembly) -> None:
    strategy = _job(assembly.dev)["Properties"]["RetryStrategy"]
    rules = strategy["EvaluateOnExit"]
    assert strategy["Attempts"] > 1
    assert rules[-1] == {"Action": "EXIT", "OnReason": "*"}
    retried = rules[:-1]
    assert all(rule["Action"] == "RETRY" for rule in retried)
    reasons = [rule.get("OnStatusReason") or rule.get("OnReason") for rule in retried]
    assert "Host EC2*" in reasons
    assert any("Spot" in reason for reason in reasons)
    # A run that failed or timed out is the worker's verdict: never matched for a retry.
    assert not any("OnExitCode" in rule for rule in retried)
    assert not any("Timeout" in reason and "network" not in reason for reason in reasons)


def test_a_run_has_a_time_limit_above_the_agents_own(assembly: Assembly) -> None:
    seconds = _job(assembly.dev)["Properties"]["Timeout"]["AttemptDurationSeconds"]
    assert 1800 < seconds <= 4 * 3600


def test_worker_image_is_built_from_the_dockerfile_and_logs_to_a_retained_group(assembly: Assembly) -> None:
    job = _job(assembly.dev)
    props = job["Properties"]
    assert props["PlatformCapabilities"] == ["FARGATE"]
    container = props["ContainerProperties"]
    assert "container-assets" in json.dumps(container["Image"])
    assert container["NetworkConfiguration"] == {"AssignPublicIp": "ENABLED"}
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    group_id = log["Options"]["awslogs-group"]["Ref"]
    group = cfn.find(assembly.dev, "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] == 14
    assets = json.loads(next(assembly.outdir.glob("CodyBatch-dev.assets.json")).read_text())
    (image,) = assets["dockerImages"].values()
    context = assembly.outdir / image["source"]["directory"]
    assert (context / "Dockerfile").is_file()
    assert (context / "server" / "cli").exists() or (context / "server" / "cli.py").exists()
    assert not (context / ".venv").exists() and not (context / "frontend").exists()


def test_worker_environment_names_the_table_bucket_model_allowlist_and_site(assembly: Assembly) -> None:
    env = cfn.environment(_job(assembly.dev))
    table_id, _ = cfn.one(assembly.dev, "AWS::DynamoDB::GlobalTable")
    assert env["CODY_BATCH_BACKEND"] == "aws"
    assert env["CODY_BATCH_TABLE"] == cfn.ref(table_id)
    assert env["CODY_BATCH_ALLOWED_REPOS"] == ALLOWED
    assert env["CODY_BATCH_MODEL"]
    distribution_id, _ = cfn.one(assembly.dev, "AWS::CloudFront::Distribution")
    assert env["CODY_BATCH_PUBLIC_URL"] == {"Fn::Join": ["", ["https://", cfn.arn(distribution_id, "DomainName")]]}


def test_job_role_reaches_the_table_and_the_artifacts_bucket_only(assembly: Assembly) -> None:
    table_id, _ = cfn.one(assembly.dev, "AWS::DynamoDB::GlobalTable")
    bucket_id, _ = cfn.one(assembly.dev, "AWS::S3::Bucket", {"LifecycleConfiguration": Match.any_value()})
    statements = cfn.role_statements(
        assembly.dev, _job(assembly.dev)["Properties"]["ContainerProperties"]["JobRoleArn"]
    )
    assert statements
    for statement in statements:
        assert all(json.dumps(r).count(table_id) or json.dumps(r).count(bucket_id) for r in cfn.resources(statement))
    (objects,) = cfn.statements_with(statements, "s3:PutObject")
    assert {"Fn::Join": ["", [cfn.arn(bucket_id), "/*"]]} in cfn.resources(objects)


def test_a_plain_docker_build_sees_what_the_cdk_stages(assembly: Assembly) -> None:
    # The image COPYs its whole context: .dockerignore must let through exactly the staged sources.
    kept = {
        line.removeprefix("!") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    assets = json.loads(next(assembly.outdir.glob("CodyBatch-dev.assets.json")).read_text())
    (image,) = assets["dockerImages"].values()
    staged = {path.name for path in (assembly.outdir / image["source"]["directory"]).iterdir()}
    assert kept | {"Dockerfile"} == staged


def test_the_images_pip_install_gives_the_worker_command_with_its_data_files(
    assembly: Assembly, tmp_path: Path
) -> None:
    # GIVEN the image's build context as staged, and the command the Dockerfile runs
    assets = json.loads(next(assembly.outdir.glob("CodyBatch-dev.assets.json")).read_text())
    (image,) = assets["dockerImages"].values()
    context = assembly.outdir / image["source"]["directory"]
    (cmd,) = [line for line in (context / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    program = json.loads(cmd.removeprefix("CMD "))[0]
    # WHEN it is built as the Dockerfile's `pip install .` builds it
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path, context], check=True, timeout=300
    )
    (wheel,) = tmp_path.glob("cody_batch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    # THEN the program is installed, pointing at a module the wheel holds, and the schema ships with it
    (line,) = [line for line in scripts.splitlines() if line.startswith(f"{program} = ")]
    module = line.split(" = ")[1].split(":")[0]
    path = module.replace(".", "/")
    assert {f"{path}.py", f"{path}/__init__.py"} & names, f"{module} is not in the wheel"
    assert "schema/schema.graphql" in names
