"""site.yml refuses an impossible MinIO layout, and a changed volume list, before touching any host."""

from test_preflight import make_inventory, run_site, valid_secrets


def refused(tmp_path, extra_vars, record=None):
    inv = make_inventory(tmp_path, {})
    inv = make_inventory(tmp_path / "case", valid_secrets(inv))
    (inv / "group_vars" / "all" / "zz_minio.yml").write_text("---\n" + extra_vars)
    if record is not None:
        (inv / "credentials" / "minio").mkdir(parents=True)
        (inv / "credentials" / "minio" / "volumes.txt").write_text(record + "\n")
    res = run_site(inv)
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert "UNREACHABLE" not in res.stdout, "preflight contacted a host"
    assert "Gathering Facts" not in res.stdout
    return out


def test_parity_above_half_the_set_is_refused(tmp_path):
    out = refused(tmp_path, "minio_parity: 3\n")
    assert "MinIO layout refused" in out
    assert "parity can be at most EC:2; EC:3 was asked for" in out


def test_changed_volume_list_of_a_deployed_cluster_is_refused(tmp_path):
    deployed = "https://data{1...4}.lab.cloudphone.test:9000/var/lib/minio/disk1"
    out = refused(tmp_path, "minio_drives_per_node: 2\n", record=deployed)
    assert "MinIO cannot change the drives of an existing pool" in out
    assert "append a new pool at the end of minio_pools" in out
