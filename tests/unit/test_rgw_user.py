"""cloudphone.infra.rgw_user refuses a bucket limit the gateway would misread, before it runs
radosgw-admin. (The Molecule verifier found that the gateway reads max_buckets 0 as "no limit":
the upload user could create buckets.)"""

import pytest

from ansible_collections.cloudphone.infra.plugins.modules import rgw_user

from module_run import run_module

ARGS = {"uid": "apk-uploader", "access_key": "AKIAEXAMPLEEXAMPLE01", "secret_key": "not-a-real-secret-0123456789"}


@pytest.mark.parametrize("limit", [-2, -100])
def test_a_limit_below_minus_one_is_refused_with_the_values_that_work(limit):
    code, result = run_module(rgw_user.main, dict(ARGS, max_buckets=limit))
    assert code == 1 and result["failed"]
    assert result["msg"] == (f"max_buckets is {limit}: use -1 to forbid creating buckets, 0 for no limit, "
                             "or a positive limit.")
