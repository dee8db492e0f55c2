"""Frontend: a private bucket behind CloudFront with origin access control, the SPA and its config.json."""

from __future__ import annotations

import json
import re

from aws_cdk.assertions import Match

from tests.infra import cfn
from tests.infra.conftest import Assembly


def test_site_bucket_is_private_and_read_by_cloudfront_alone(assembly: Assembly) -> None:
    site_id, site = cfn.one(assembly.dev, "AWS::S3::Bucket", {"LifecycleConfiguration": Match.absent()})
    assert site["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    distribution_id, distribution = cfn.one(assembly.dev, "AWS::CloudFront::Distribution")
    oac_id, oac = cfn.one(assembly.dev, "AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    (origin,) = [o for o in distribution["Properties"]["DistributionConfig"]["Origins"] if "S3OriginConfig" in o]
    assert origin["OriginAccessControlId"] == cfn.arn(oac_id, "Id")
    assert origin["DomainName"] == cfn.arn(site_id, "RegionalDomainName")
    _, policy = cfn.one(assembly.dev, "AWS::S3::BucketPolicy", {"Bucket": cfn.ref(site_id)})
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    reads = [s for s in allows if "s3:GetObject" in cfn.actions(s)]
    assert [s["Principal"] for s in reads] == [{"Service": "cloudfront.amazonaws.com"}]
    assert distribution_id in json.dumps(reads[0]["Condition"])


def test_distribution_serves_https_and_routes_deep_links_to_the_spa(assembly: Assembly) -> None:
    _, distribution = cfn.one(assembly.dev, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    pages = {r["ErrorCode"]: (r["ResponseCode"], r["ResponsePagePath"]) for r in config["CustomErrorResponses"]}
    assert pages == {403: (200, "/index.html"), 404: (200, "/index.html")}


def test_spa_and_config_json_are_deployed_with_an_invalidation(assembly: Assembly) -> None:
    distribution_id, _ = cfn.one(assembly.dev, "AWS::CloudFront::Distribution")
    _, deployment = cfn.one(assembly.dev, "Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    assert props["DistributionId"] == cfn.ref(distribution_id)
    assert props["DistributionPaths"] == ["/*"]
    assert len(props["SourceObjectKeys"]) == 2
    (markers,) = [m for m in props["SourceMarkers"] if m]
    http_id, _ = cfn.one(assembly.dev, "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    ws_id, _ = cfn.one(assembly.dev, "AWS::ApiGatewayV2::Api", {"ProtocolType": "WEBSOCKET"})
    assets = json.loads(next(assembly.outdir.glob("CodyBatch-dev.assets.json")).read_text())
    staged = [assembly.outdir / f["source"]["path"] for f in assets["files"].values()]
    (config_dir,) = [p for p in staged if (p / "config.json").is_file()]
    # Deploy-time values are markers in the staged file, filled in from SourceMarkers by the deployment.
    text = (config_dir / "config.json").read_text()
    written = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", lambda m: json.dumps(m.group(0)), text))
    assert set(written) == {"graphqlUrl", "websocketUrl"}
    assert http_id in json.dumps(markers[written["graphqlUrl"]])
    assert ws_id in json.dumps(markers[written["websocketUrl"]])
    assert any((p / "index.html").is_file() for p in staged)


def test_patch_downloads_on_the_site_reach_the_http_api_uncached_with_their_signature(assembly: Assembly) -> None:
    http_id, _ = cfn.one(assembly.dev, "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    _, distribution = cfn.one(assembly.dev, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (behavior,) = config["CacheBehaviors"]
    assert behavior["PathPattern"] == "/jobs/*/runs/*/patch"
    (origin,) = [o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    region, suffix = {"Ref": "AWS::Region"}, {"Ref": "AWS::URLSuffix"}
    assert origin["DomainName"] == {"Fn::Join": ["", [cfn.ref(http_id), ".execute-api.", region, ".", suffix]]}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
