import os
import socket
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Import plugins the way Ansible does: through the collection's FQCN path.
sys.path.insert(0, os.path.join(ROOT, "collections"))
# The drill workloads are a test-side package (tests/drills/cloudphone_drill), not part of the collection.
sys.path.insert(0, os.path.join(ROOT, "tests", "drills"))


@pytest.fixture
def listener():
    """A port on 127.0.0.1 that accepts connections (a healthy service's port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (a stopped service's port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
