"""Fixtures of the unit tests that talk to AWS: moto in server mode, in this process."""

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.e2e.harness import free_port


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on 127.0.0.1 for the module's tests (real HTTP; boto3 gets endpoint_url)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
