"""A real S3 API for the tests: moto's server on a free port of this machine, one per test process.

`s3_endpoint` starts it once and points the AWS settings at fictional credentials, so that no
test can reach a real account; `s3_bucket` makes a new bucket with versioning enabled for each
test and removes it, every version, afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "eu-west-2"
# Settings that could lead a client to a real account, or to another endpoint.
_AWS_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """The URL of a moto server, with the AWS chain set to its test credentials for the whole run."""
    with pytest.MonkeyPatch.context() as env:
        for name in _AWS_SETTINGS:
            env.delenv(name, raising=False)
        nowhere = tmp_path_factory.mktemp("aws") / "none"
        env.setenv("AWS_CONFIG_FILE", str(nowhere))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def s3_client(endpoint: str) -> Any:
    """A client of the test server, for what the tests do behind the store's back."""
    return boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))


def new_bucket(endpoint: str, *, versioning: str | None = "Enabled") -> str:
    """A bucket of a name no other test uses, with versioning `Enabled`, `Suspended` or never set (None)."""
    client = s3_client(endpoint)
    name = f"evidence-{uuid.uuid4().hex[:20]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if versioning:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    return name


def remove_bucket(endpoint: str, name: str) -> None:
    """Delete every version and delete marker in the bucket, then the bucket."""
    client = s3_client(endpoint)
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            client.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_bucket(s3_endpoint) -> Iterator[str]:
    """A new, empty bucket with versioning enabled, removed after the test."""
    name = new_bucket(s3_endpoint)
    yield name
    remove_bucket(s3_endpoint, name)
