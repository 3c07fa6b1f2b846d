"""The tests' S3 server (tests/support/s3_server.py): the settings that point the suite at an external S3/MinIO, and the
clean-up that keeps such a server from filling up with test buckets."""

from __future__ import annotations

import io

import pytest

from support.s3_server import ENV_PREFIX, S3Server, external_s3_server

KEYS = {ENV_PREFIX + "ACCESS_KEY": "ci-key", ENV_PREFIX + "SECRET_KEY": "ci-secret"}


def test_without_an_endpoint_the_tests_start_their_own_server() -> None:
    assert external_s3_server({}) is None
    assert external_s3_server({**KEYS, ENV_PREFIX + "ENDPOINT": " "}) is None


def test_an_external_endpoint_with_its_keys_region_and_tls() -> None:
    server = external_s3_server({**KEYS, ENV_PREFIX + "ENDPOINT": "minio.ci:9000"})
    assert server is not None and server.seaweedfs is None
    assert (server.endpoint, server.access_key, server.secret_key) == ("minio.ci:9000", "ci-key", "ci-secret")
    assert (server.region, server.secure, server.url) == ("us-east-1", False, "http://minio.ci:9000")
    tls = external_s3_server({**KEYS, ENV_PREFIX + "ENDPOINT": "s3.ci:443", ENV_PREFIX + "REGION": "ap-southeast-1",
                              ENV_PREFIX + "SECURE": "True"})
    assert tls is not None and (tls.region, tls.secure, tls.url) == ("ap-southeast-1", True, "https://s3.ci:443")
    tls.stop()  # an external server is not ours: stopping it does nothing


@pytest.mark.parametrize(("settings", "error"), [
    ({ENV_PREFIX + "ENDPOINT": "minio.ci:9000"}, "ACCESS_KEY and BIZPORTAL_TEST_S3_SECRET_KEY are needed"),
    ({**KEYS, ENV_PREFIX + "ENDPOINT": "http://minio.ci:9000"}, "without a scheme"),
    ({**KEYS, ENV_PREFIX + "ENDPOINT": "minio.ci:9000", ENV_PREFIX + "SECURE": "maybe"}, "true or false"),
])
def test_incomplete_or_malformed_settings_are_refused_by_name(settings: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        external_s3_server(settings)


def test_bucket_names_are_unique_and_valid() -> None:
    one, other = S3Server("a:1", "k", "s"), S3Server("a:1", "k", "s")
    names = [one.new_bucket_name(), one.new_bucket_name(), other.new_bucket_name()]
    assert len(set(names)) == 3  # a counter within a worker, a token of each worker (or CI run)
    assert all(len(name) <= 63 and name == name.lower() for name in names)


@pytest.mark.s3
def test_a_test_bucket_is_removed_with_everything_in_it(s3_server: S3Server) -> None:
    name = s3_server.new_bucket_name()
    client = s3_server.client()
    client.make_bucket(name, location=s3_server.region)
    for key in ("a", "sha256/ab/b", "sha256/cd/c"):
        client.put_object(name, key, io.BytesIO(b"x"), 1)
    s3_server.remove_bucket(name)
    assert not client.bucket_exists(name)
    s3_server.remove_bucket(name)  # a bucket that is not there (never made, or gone already) is fine
