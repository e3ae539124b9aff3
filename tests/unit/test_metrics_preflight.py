"""site.yml refuses a metrics inventory that cannot work, before it touches any host.

Same method as test_preflight.py: the hosts point at a closed port on loopback, so reaching one
would show as UNREACHABLE instead of the expected refusal.
"""

from test_preflight import make_inventory, refused_before_any_host, valid_secrets
from test_rabbitmq_preflight import refused

BROKEN_DASHBOARD = {
    "name": "mine", "title": "Mine", "description": "An operator's own dashboard.",
    "rows": [{"title": "Row", "panels": [{
        "title": "Requests", "unit": "requests/s", "description": "Requests per second. Bad is 0.",
        "queries": [{"expr": "sum(rate(http_requests_total[5m])"}]}]}],
}


def test_a_retention_shorter_than_prometheus_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"victoriametrics_retention": "7d"})
    assert "no shorter than Prometheus keeps its own samples (prometheus_retention_time '15d', about 360.0 h)" in out
    assert "(got '7d', about 168.0 h)" in out


def test_a_longer_prometheus_retention_is_compared_too(tmp_path):
    out = refused(tmp_path, extra_vars={"prometheus_retention_time": "2y", "victoriametrics_retention": "12M"})
    assert "prometheus_retention_time '2y'" in out and "got '12M'" in out


def test_a_retention_victoriametrics_cannot_read_is_refused(tmp_path):
    # Lower-case m is minutes for Prometheus and refused by VictoriaMetrics: months are M.
    out = refused(tmp_path, extra_vars={"victoriametrics_retention": "12m"})
    assert "victoriametrics_retention must be a duration such as 12M (months)" in out


def test_a_dashboard_expression_that_does_not_parse_is_refused(tmp_path):
    out = refused(tmp_path, extra_vars={"victoriametrics_extra_dashboards": [BROKEN_DASHBOARD]})
    assert "The dashboards cannot be installed: dashboard 'mine', panel 'Requests': the expression" in out
    assert "does not parse" in out


def test_a_panel_without_unit_is_refused(tmp_path):
    board = {**BROKEN_DASHBOARD, "rows": [{"title": "Row", "panels": [{
        "title": "Requests", "description": "Requests per second. Bad is 0.",
        "queries": [{"expr": "sum(rate(http_requests_total[5m]))"}]}]}]}
    out = refused(tmp_path, extra_vars={"victoriametrics_extra_dashboards": [board]})
    assert "dashboard 'mine', panel 'Requests': unit must be one of" in out


def test_a_missing_query_password_is_refused(tmp_path):
    secrets = valid_secrets(make_inventory(tmp_path / "probe", {}))
    del secrets["metrics_query_password"]
    out = refused_before_any_host(make_inventory(tmp_path / "case", secrets))
    assert "haproxy_monitoring_query_password" in out
    assert "make secrets" in out


def test_a_monitoring_host_without_haproxy_is_refused(tmp_path):
    def monitoring_on_data4(hosts):
        hosts["all"]["children"]["monitoring"] = {"hosts": {"data4": None}}

    out = refused(tmp_path, edit_hosts=monitoring_on_data4)
    assert "put data4 in the 'haproxy' group as well" in out
