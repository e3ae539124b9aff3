"""The test suite itself must not pass by accident.

- A helper whose name starts with `test_` is collected by pytest and "passes" without checking
  anything; the telltale is that it returns a value, which a real test never does.
- A skip (`pytest.importorskip`, `pytest.skip`, `pytest.mark.skip`/`skipif`, `xfail`) turns a missing
  dependency, binary or inventory into a skipped test, so a broken environment reads as a green run.
  Import the dependency plainly, and fail with the command that provides what is missing.
"""

import ast
import glob
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def suite_sources():
    """Every Python file of the unit, drift and Molecule verifier suites, relative to the root."""
    found = set()
    for pattern in ("tests/**/*.py", "molecule/*/tests/**/*.py"):
        found.update(glob.glob(os.path.join(ROOT, pattern), recursive=True))
    return sorted(os.path.relpath(p, ROOT) for p in found)


def parsed(relpath):
    with open(os.path.join(ROOT, relpath)) as fh:
        return ast.parse(fh.read(), filename=relpath)


def collected_functions(tree):
    """The functions pytest collects: `test_*` at module level and in `Test*` classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    yield f"{node.name}.{item.name}", item


def returns_a_value(function):
    """Whether the function's own body (not a nested function's) has `return <something>`."""
    pending = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        pending.extend(ast.iter_child_nodes(node))
    return False


def test_the_scan_sees_the_suites():
    sources = suite_sources()
    assert "tests/unit/test_prometheus_rules.py" in sources
    assert "molecule/redis/tests/test_redis.py" in sources


def test_no_collected_test_function_returns_a_value():
    offenders = [f"{path}: {name}()" for path in suite_sources()
                 for name, function in collected_functions(parsed(path)) if returns_a_value(function)]
    assert not offenders, ("these functions are collected as tests but return a value, so they pass without "
                           "checking anything; rename the helpers so they do not start with 'test':\n"
                           + "\n".join(offenders))


def test_the_return_check_catches_a_helper_named_like_a_test():
    tree = ast.parse("def test_paths():\n    return ['a']\n\ndef test_real():\n    assert 1\n\n"
                     "def test_nested():\n    def helper():\n        return 1\n    assert helper()\n")
    assert [name for name, f in collected_functions(tree) if returns_a_value(f)] == ["test_paths"]


SKIPPING_NAMES = {"importorskip", "skip", "skipif", "xfail"}


def skipping_calls(tree):
    """Line numbers of every skip, however pytest was imported: calls such as `pytest.skip(...)` and
    markers such as `pytest.mark.skipif(...)` or a bare `@pytest.mark.skip`."""
    return sorted({node.lineno for node in ast.walk(tree)
                   if (isinstance(node, ast.Attribute) and node.attr in SKIPPING_NAMES)
                   or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                       and node.func.id in SKIPPING_NAMES)})


def test_no_test_can_be_skipped():
    offenders = [f"{path}:{line}" for path in suite_sources() for line in skipping_calls(parsed(path))]
    assert not offenders, ("a skip reads as a pass when a dependency, binary or inventory is missing; import "
                           "the dependency plainly (and list it in requirements.txt), or fail with the "
                           "command that provides what is missing:\n" + "\n".join(offenders))


def test_the_skip_check_catches_every_spelling():
    tree = ast.parse("import pytest\nfrom pytest import importorskip, skip\n"
                     "pika = pytest.importorskip('pika')\nimportorskip('redis')\nimport json\n"
                     "pytestmark = pytest.mark.skipif(True, reason='x')\n"
                     "@pytest.mark.skip\ndef test_a():\n    skip('no binary')\n"
                     "def test_b():\n    pytest.xfail('later')\n")
    assert skipping_calls(tree) == [3, 4, 6, 7, 9, 11]
