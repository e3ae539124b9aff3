"""cloudphone.infra.metrics_query and its client (plugins/module_utils/metrics_api.py), against the real
VictoriaMetrics: the binary the victoriametrics role installs (its `binary` entry point, go_program's
build), run on loopback with a temporary data directory. Samples are imported through its own API,
then read back through the module."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ansible_collections.cloudphone.infra.plugins.module_utils.metrics_api import (
    MetricsQueryError, explain_status, parse_answer)
from ansible_collections.cloudphone.infra.plugins.modules import metrics_query
from module_run import run_module

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_answers_become_series():
    vector = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "up", "instance": "data1"}, "value": [1796651450.4, "1"]}]}}
    assert parse_answer(json.dumps(vector)) == [{"metric": {"__name__": "up", "instance": "data1"}, "value": 1.0}]
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1796651450.4, "0"]}}
    assert parse_answer(json.dumps(scalar)) == [{"metric": {}, "value": 0.0}]


@pytest.mark.parametrize("body, words", [
    ("<html>Service Unavailable</html>", "is this URL a Prometheus query API"),
    ('{"status":"error","errorType":"400","error":"unparsed data"}', "the query was refused: unparsed data"),
    ('{"status":"success","data":{"resultType":"matrix","result":[]}}', "returned a matrix"),
])
def test_answers_that_are_not_series_are_explained(body, words):
    with pytest.raises(MetricsQueryError, match=words):
        parse_answer(body)


@pytest.mark.parametrize("status, words", [
    (401, "haproxy_monitoring_query_password"),
    (403, "use the query port"),
    (503, "systemctl status victoria-metrics"),
])
def test_refusals_say_what_to_do(status, words):
    assert words in explain_status(status, "", "https://ops1:8430/api/v1/query")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def victoriametrics(tmp_path_factory):
    install = tmp_path_factory.mktemp("vm-install")
    binary = install / "victoria-metrics"
    built = subprocess.run(
        ["ansible-playbook", os.path.join(ROOT, "tests", "unit", "victoria_metrics_binary.yml"),
         "-i", "localhost,", "-e", f"victoriametrics_binary={binary}", "-e", f"go_program_record_dir={install}",
         "-e", f"ansible_python_interpreter={sys.executable}"],
        env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")), capture_output=True, text=True)
    assert built.returncode == 0, f"the victoriametrics role could not install its binary:\n{built.stdout[-3000:]}"
    port = free_port()
    data = tmp_path_factory.mktemp("vm")
    proc = subprocess.Popen([str(binary), f"-storageDataPath={data}", f"-httpListenAddr=127.0.0.1:{port}",
                             "-retentionPeriod=100y", "-search.latencyOffset=0s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        # Two series of one counter, in Prometheus' text format, then a flush so queries see them.
        now = int(time.time())
        text = "".join(f'cloudphone_test_total{{instance="{h}"}} {v} {(now - 30) * 1000}\n'
                       for h, v in (("data1", 1), ("data2", 0)))
        urllib.request.urlopen(urllib.request.Request(url + "/api/v1/import/prometheus", data=text.encode()), timeout=10)
        urllib.request.urlopen(url + "/internal/force_flush", timeout=10)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_one_query_returns_its_series(victoriametrics):
    code, result = run_module(metrics_query.main, {"url": victoriametrics, "query": "cloudphone_test_total",
                                                   "_ansible_check_mode": True})
    assert code == 0 and result["changed"] is False and result["count"] == 2
    assert sorted((s["metric"]["instance"], s["value"]) for s in result["series"]) == [("data1", 1.0), ("data2", 0.0)]


def test_too_few_series_fail(victoriametrics):
    code, result = run_module(metrics_query.main, {"url": victoriametrics, "query": "no_such_metric", "min_series": 1})
    assert code == 1 and "returned 0 series, fewer than min_series=1" in result["msg"]


def test_several_queries_report_each_refusal_without_failing(victoriametrics):
    code, result = run_module(metrics_query.main, {"url": victoriametrics, "queries": [
        "sum(cloudphone_test_total)", "rate(cloudphone_test_total", "no_such_metric"]})
    assert code == 0
    first, broken, empty = result["results"]
    assert first["count"] == 1 and first["series"][0]["value"] == 1.0 and first["error"] is None
    assert broken["count"] == 0 and broken["error"].startswith("the query was refused:")
    assert empty == {"query": "no_such_metric", "series": [], "count": 0, "error": None}


def test_a_single_refused_query_fails(victoriametrics):
    code, result = run_module(metrics_query.main, {"url": victoriametrics, "query": "rate(x"})
    assert code == 1 and result["msg"].startswith("the query was refused:")


def test_an_unreachable_server_is_explained(closed_port):
    code, result = run_module(metrics_query.main, {"url": f"http://127.0.0.1:{closed_port}", "queries": ["up"],
                                                   "timeout": 2})
    assert code == 1 and result["msg"].startswith(f"cannot reach the query API at http://127.0.0.1:{closed_port}")
