"""Reading a synthesized template by what resources are, never by their logical ids."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

Resource = dict[str, Any]


def find(template: Template, resource_type: str, properties: dict[str, Any] | None = None) -> dict[str, Resource]:
    """Resources of a type whose properties contain `properties` (logical id -> resource)."""
    props = {"Properties": Match.object_like(properties)} if properties else None
    return dict(template.find_resources(resource_type, props))


def one(template: Template, resource_type: str, properties: dict[str, Any] | None = None) -> tuple[str, Resource]:
    """The single resource matching; fails when there are none or several."""
    found = find(template, resource_type, properties)
    assert len(found) == 1, f"expected one {resource_type} matching {properties}, found {sorted(found)}"
    return next(iter(found.items()))


def function(template: Template, handler: str) -> tuple[str, Resource]:
    """The Lambda function running `handler`."""
    return one(template, "AWS::Lambda::Function", {"Handler": handler})


def role_statements(template: Template, role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to `role` (a {"Ref": ...} or {"Fn::GetAtt": ...})."""
    role_ref = {"Ref": role["Fn::GetAtt"][0]} if "Fn::GetAtt" in role else role
    statements: list[dict[str, Any]] = []
    for policy in find(template, "AWS::IAM::Policy").values():
        if role_ref in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def resources(statement: dict[str, Any]) -> list[Any]:
    value = statement["Resource"]
    return value if isinstance(value, list) else [value]


def statements_with(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """The statements granting `action`."""
    return [s for s in statements if action in actions(s)]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def environment(resource: Resource) -> dict[str, Any]:
    """A function's environment variables, or a job definition's, as a dict."""
    props = resource["Properties"]
    if "Environment" in props and "Variables" in props["Environment"]:
        return dict(props["Environment"]["Variables"])
    return {item["Name"]: item["Value"] for item in props["ContainerProperties"].get("Environment", [])}
