"""roles/<role>/README.md is generated from meta/argument_specs.yml and must stay in step with it."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(ROOT, "tools", "role-readme")


def role_readme(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, check=False)


def test_every_role_readme_matches_its_argument_spec():
    result = role_readme("--check")
    assert result.returncode == 0, result.stderr


def _collection(tmp_path, roles):
    """A minimal collection root: roles/<name>/meta/argument_specs.yml from the given texts."""
    for name, spec in roles.items():
        meta = tmp_path / "roles" / name / "meta"
        meta.mkdir(parents=True)
        (meta / "argument_specs.yml").write_text(textwrap.dedent(spec))
    return tmp_path


SPEC = """\
    ---
    argument_specs:
      main:
        short_description: The thing
        description:
          - Does the thing.
        options:
          pki_renew_days:
            type: int
            default: 30
            description: Renew within this many days.
          pki_mode:
            type: str
            required: true
            choices: [a, b]
            description: Which mode | pipe.
          pki_aliases:
            type: list
            elements: str
            default: []
            description: Extra names.
          pki_template:
            type: str
            default: "{{ x | default('y') }}"
            description: A templated default.
          pki_folded:
            type: str
            default: "{{ a\\n   | b }}"
            description: A Jinja expression folded over two lines.
          pki_banner:
            type: str
            default: "line one\\nline two"
            description: Text with a line break.
          pki_passphrase:
            type: str
            no_log: true
            description: The secret.
      health:
        short_description: Health
        options:
          pki_retries:
            type: int
            description: How often to ask.
    """


def test_renders_defaults_choices_and_entry_points(tmp_path):
    root = _collection(tmp_path, {"pki": SPEC})
    assert role_readme("--root", str(root)).returncode == 0
    text = (root / "roles" / "pki" / "README.md").read_text()
    assert text.startswith("# cloudphone.infra.pki\n")
    assert "**The thing.** Does the thing." in text
    assert "[docs/base.md](../../docs/base.md)" in text
    assert "| `pki_renew_days` | int | `30` | no |  | Renew within this many days. |" in text
    assert "| `pki_mode` | str |  | yes | `a`, `b` | Which mode \\| pipe. |" in text
    assert "| `pki_aliases` | list of str | `[]` |" in text
    # A pipe inside a default is escaped so that it does not split the table cell.
    assert "`{{ x \\| default('y') }}`" in text
    # A table cell is one line: a folded Jinja expression is joined, other text shows its \n.
    assert "| `pki_folded` | str | `{{ a \\| b }}` |" in text
    assert '| `pki_banner` | str | `"line one\\nline two"` |' in text
    assert "The secret. Secret (`no_log`)." in text
    assert "| `health` | Health. |" in text
    assert "How often to ask. Read only by `health`." in text


def test_check_names_a_stale_readme_after_a_spec_change(tmp_path):
    root = _collection(tmp_path, {"pki": SPEC, "common": SPEC})
    assert role_readme("--root", str(root)).returncode == 0
    assert role_readme("--root", str(root), "--check").returncode == 0
    spec = root / "roles" / "pki" / "meta" / "argument_specs.yml"
    spec.write_text(spec.read_text().replace("default: 30", "default: 14"))
    result = role_readme("--root", str(root), "--check")
    assert result.returncode == 1
    assert os.path.join("roles", "pki", "README.md") in result.stderr
    assert os.path.join("roles", "common", "README.md") not in result.stderr
    assert "make role-readmes" in result.stderr


def test_check_names_a_missing_readme(tmp_path):
    root = _collection(tmp_path, {"pki": SPEC})
    result = role_readme("--root", str(root), "--check")
    assert result.returncode == 1
    assert os.path.join("roles", "pki", "README.md") in result.stderr
    assert not (root / "roles" / "pki" / "README.md").exists()


def test_a_role_without_a_tier_page_is_refused(tmp_path):
    root = _collection(tmp_path, {"newtier": SPEC})
    result = role_readme("--root", str(root))
    assert result.returncode == 1
    assert "newtier" in result.stderr and "ROLE_TIER_DOCS" in result.stderr and "add it" in result.stderr
