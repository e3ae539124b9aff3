import bcrypt
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudphone.infra.plugins.filter.monitoring import bcrypt_hash


def test_bcrypt_hash_keeps_a_matching_hash_and_replaces_a_stale_one():
    first = bcrypt_hash("s3cret-password-123")
    assert bcrypt.checkpw(b"s3cret-password-123", first.encode())
    # Same password: the installed hash is kept, so the web config file does not change.
    assert bcrypt_hash("s3cret-password-123", first) == first
    # New password, or something that is not a bcrypt hash: a new hash.
    second = bcrypt_hash("another-password-456", first)
    assert second != first and bcrypt.checkpw(b"another-password-456", second.encode())
    assert bcrypt.checkpw(b"x" * 20, bcrypt_hash("x" * 20, "not-a-hash").encode())
    with pytest.raises(AnsibleFilterError, match="empty"):
        bcrypt_hash("")
