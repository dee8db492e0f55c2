"""Frontend: the built SPA in a private bucket behind CloudFront (origin access control), plus config.json."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.data import private_bucket
from infra.sources import ROOT

SITE_DIR = ROOT / "frontend" / "dist"
PATCH_DOWNLOADS = "/jobs/*/runs/*/patch"
"""The API's patch download route (server/aws/http_app.py), as a CloudFront path pattern."""


class SiteNotBuilt(FileNotFoundError):
    """The SPA has not been built, so there is nothing to deploy."""


class Frontend(Construct):
    """Private site bucket and CloudFront distribution; `publish` deploys the SPA and its config.json."""

    bucket: s3.Bucket
    distribution: cloudfront.Distribution

    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(self, "Site", retain=retain)
        # The SPA routes in the browser: a deep link such as /jobs/ID is index.html too.
        spa_route = [
            cloudfront.ErrorResponse(
                http_status=status, response_http_status=200, response_page_path="/index.html", ttl=Duration.seconds(0)
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Cody Batch",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            error_responses=spa_route,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )

    @property
    def url(self) -> str:
        """The site's URL (also the origin the APIs allow)."""
        return f"https://{self.distribution.distribution_domain_name}"

    def publish(self, *, graphql_url: str, websocket_url: str, api_domain: str, site_dir: Path = SITE_DIR) -> None:
        """Deploy the built SPA with a config.json naming the APIs, then invalidate the distribution.

        A patch's `downloadUrl` is a path on the page's own origin (`/jobs/ID/runs/ID/patch`),
        so the site sends that path to the HTTP API, uncached, query string (its signature) and all.
        """
        if not (site_dir / "index.html").is_file():
            raise SiteNotBuilt(f"{site_dir} has no index.html: build the SPA first (make frontend)")
        self.distribution.add_behavior(
            PATCH_DOWNLOADS,
            origins.HttpOrigin(api_domain),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(site_dir)),
                s3deploy.Source.json_data("config.json", {"graphqlUrl": graphql_url, "websocketUrl": websocket_url}),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
