import base64
import hashlib
import hmac
import json

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cloudphone.infra.plugins.filter.monitoring import bcrypt_hash, minio_prometheus_token


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


def _b64(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_minio_token_is_what_mc_generates_and_stable():
    token = minio_prometheus_token("minioadminkey", "secret-key-of-32-characters-long")
    header, claims, signature = token.split(".")
    assert _b64(header) == {"alg": "HS512", "typ": "JWT"}
    assert _b64(claims) == {"iss": "prometheus", "sub": "minioadminkey", "exp": 4102444800}
    expected = hmac.new(b"secret-key-of-32-characters-long", f"{header}.{claims}".encode(), hashlib.sha512).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    assert minio_prometheus_token("minioadminkey", "secret-key-of-32-characters-long") == token
    with pytest.raises(AnsibleFilterError, match="secret key"):
        minio_prometheus_token("key", "")
