"""The internal role go_program, run by the real ansible-playbook on the control node, with a fake
`go` command: it reports the version the test wants and "builds" a small script into the -o path,
counting its builds. So the role's whole path runs offline: the toolchain check, the cache keyed by
version and toolchain, the sha256-checked install and its record on the host, the second run that
builds and changes nothing, check mode without Go (the scheduled drift check's case), and its
refusals."""

import hashlib
import json
import os
import shutil
import stat

import pytest
import yaml

from test_internal_roles import play

MODULE = "github.com/VictoriaMetrics/VictoriaLogs"
FAKE_GO = """#!/bin/sh
# A stand-in for the go command: `go env GOVERSION` and `go build ... -o OUT PKG`.
if [ "$1" = env ]; then echo "{version}"; exit 0; fi
out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
echo build >> "{log}"
printf '#!/bin/sh\\necho built by the fake go with GOTOOLCHAIN=%s CGO_ENABLED=%s\\n' "$GOTOOLCHAIN" "$CGO_ENABLED" > "$out"
chmod 755 "$out"
"""


def fake_go(tmp_path, version="go1.26.8"):
    path = tmp_path / "go"
    path.write_text(FAKE_GO.format(version=version, log=tmp_path / "builds.log"))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def role_vars(tmp_path, **extra):
    return {
        "go_program_name": "victoria-logs",
        "go_program_module": MODULE,
        "go_program_version": "v1.52.2",
        "go_program_package": MODULE + "/app/victoria-logs",
        "go_program_go_min": '"1.26.5"',
        "go_program_go": str(tmp_path / "go"),
        "go_program_cache_dir": str(tmp_path / "cache"),
        "go_program_dest": str(tmp_path / "bin" / "victoria-logs"),
        "go_program_record_dir": str(tmp_path / "records"),
        **extra,
    }


def test_builds_once_installs_checked_and_then_changes_nothing(tmp_path):
    fake_go(tmp_path)
    (tmp_path / "bin").mkdir()
    first = play(tmp_path, "go_program", role_vars(tmp_path))
    assert first.returncode == 0, first.stdout[-3000:]
    installed = tmp_path / "bin" / "victoria-logs"
    assert "GOTOOLCHAIN=local CGO_ENABLED=0" in installed.read_text()
    # The cache entry is named after the version and the toolchain; it holds the wrapper module and go.sum.
    entries = list((tmp_path / "cache" / "victoria-logs").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("v1.52.2-go1.26.8-linux-amd64-")
    go_mod = (entries[0] / "go.mod").read_text()
    assert f"require {MODULE} v1.52.2" in go_mod and "go 1.26.5" in go_mod
    assert "pQ+odZC8cyAkths0NXqgr8lXtqB8r54THEIrS8kz1ik=" in (entries[0] / "go.sum").read_text()

    second = play(tmp_path, "go_program", role_vars(tmp_path))
    assert second.returncode == 0
    assert "changed=0" in second.stdout, second.stdout[-3000:]
    assert (tmp_path / "builds.log").read_text().count("build") == 1

    # The host records the build it runs and the binary's sha256.
    record = json.loads((tmp_path / "records" / "victoria-logs.json").read_text())
    assert record["build"]["version"] == "v1.52.2" and record["build"]["toolchain"] == "local"
    assert record["sha256"] == hashlib.sha256(installed.read_bytes()).hexdigest()
    assert record["built_with"] == "go1.26.8"

    # A newer Go on the control node alone rebuilds nothing: the host runs the build it was asked for.
    fake_go(tmp_path, "go1.27.0")
    third = play(tmp_path, "go_program", role_vars(tmp_path))
    assert third.returncode == 0 and "changed=0" in third.stdout, third.stdout[-3000:]
    assert (tmp_path / "builds.log").read_text().count("build") == 1

    # Another toolchain setting is another build: a second cache entry, and a new binary on the host.
    fourth = play(tmp_path, "go_program", role_vars(tmp_path, go_program_toolchain="go1.27.0"))
    assert fourth.returncode == 0, fourth.stdout[-3000:]
    assert len(list((tmp_path / "cache" / "victoria-logs").iterdir())) == 2
    assert (tmp_path / "builds.log").read_text().count("build") == 2
    assert "GOTOOLCHAIN=go1.27.0" in installed.read_text()


def test_check_mode_needs_no_go_and_reports_an_altered_binary(tmp_path):
    fake_go(tmp_path)
    (tmp_path / "bin").mkdir()
    assert play(tmp_path, "go_program", role_vars(tmp_path)).returncode == 0
    # The drift check runs from a host that has neither Go nor the build cache.
    (tmp_path / "go").unlink()
    shutil.rmtree(tmp_path / "cache")
    clean = play(tmp_path, "go_program", role_vars(tmp_path), extra=["--check"])
    assert clean.returncode == 0 and "changed=0" in clean.stdout, clean.stdout[-3000:]

    installed = tmp_path / "bin" / "victoria-logs"
    installed.write_text("#!/bin/sh\necho replaced by hand\n")
    drifted = play(tmp_path, "go_program", role_vars(tmp_path), extra=["--check"])
    assert drifted.returncode == 0 and "changed=1" in drifted.stdout, drifted.stdout[-3000:]
    assert "is not the recorded build of github.com/VictoriaMetrics/VictoriaLogs v1.52.2" in " ".join(drifted.stdout.split())
    assert "replaced by hand" in installed.read_text()

    # The converge puts the build back (Go is needed again, to fill the emptied cache).
    fake_go(tmp_path)
    repaired = play(tmp_path, "go_program", role_vars(tmp_path))
    assert repaired.returncode == 0 and "changed=" in repaired.stdout, repaired.stdout[-3000:]
    assert "built by the fake go" in installed.read_text()
    assert play(tmp_path, "go_program", role_vars(tmp_path), extra=["--check"]).stdout.count("changed=0") == 1


def test_a_go_too_old_is_refused_with_the_toolchain_to_set(tmp_path):
    fake_go(tmp_path, "go1.24.4")
    res = play(tmp_path, "go_program", role_vars(tmp_path))
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert "has go1.24.4; github.com/VictoriaMetrics/VictoriaLogs v1.52.2 needs Go >= 1.26.5" in out
    assert "Set go_program_toolchain to a newer release" in out
    assert not (tmp_path / "builds.log").exists()


def test_a_newer_toolchain_is_asked_through_gotoolchain(tmp_path):
    fake_go(tmp_path, "go1.26.8")
    (tmp_path / "bin").mkdir()
    res = play(tmp_path, "go_program", role_vars(tmp_path, go_program_toolchain="go1.26.8"))
    assert res.returncode == 0, res.stdout[-3000:]
    assert "GOTOOLCHAIN=go1.26.8" in (tmp_path / "bin" / "victoria-logs").read_text()


@pytest.mark.parametrize("change, words", [
    ({"go_program_version": "v9.9.9"}, "There is no go.sum for github.com/VictoriaMetrics/VictoriaLogs v9.9.9"),
    ({"go_program_version": "latest"}, "with a semantic version such as v1.52.2 (got 'latest')"),
    ({"go_program_package": "github.com/other/thing"}, "a package inside that module to build"),
    ({"go_program_toolchain": "auto"}, "go_program_toolchain 'local' or a Go release such as go1.26.8 (got 'auto')"),
])
def test_bad_input_is_refused_before_any_build(tmp_path, change, words):
    fake_go(tmp_path)
    res = play(tmp_path, "go_program", role_vars(tmp_path, **change))
    assert res.returncode != 0
    assert words in " ".join(res.stdout.split())
    assert not (tmp_path / "builds.log").exists()


def test_every_committed_go_sum_pins_its_module():
    top = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "go_program", "files")
    found = []
    for root, _dirs, files in os.walk(top):
        if "go.sum" in files:
            module, version = os.path.relpath(root, top).rsplit("@", 1)
            with open(os.path.join(root, "go.sum")) as fh:
                lines = fh.read().splitlines()
            assert f"{module} {version} " in "\n".join(lines) + " ", f"{root}/go.sum does not pin {module} {version}"
            assert all(len(line.split()) == 3 and line.split()[2].startswith("h1:") for line in lines if line)
            found.append(module)
    assert MODULE in found
    with open(os.path.join(top, "..", "meta", "argument_specs.yml")) as fh:
        assert "go_program_go_sum" in yaml.safe_load(fh)["argument_specs"]["main"]["options"]
