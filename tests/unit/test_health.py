from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport


def test_a_report_without_problems_is_healthy():
    report = HealthReport()
    report.topology["leader"] = "data2"
    assert report.as_dict() == {"healthy": True, "problems": [], "topology": {"leader": "data2"}}


def test_require_and_duplicates():
    report = HealthReport()
    assert report.require(True, "never recorded") is True
    assert report.require(False, "no leader") is False
    report.problem("no leader")
    assert report.as_dict()["healthy"] is False
    assert report.problems == ["no leader"]


def test_expect_members_names_missing_and_unknown():
    report = HealthReport()
    assert not report.expect_members("etcd", ["a", "b", "c"], ["a", "c", "z"])
    assert report.problems == [
        "etcd: b expected by the inventory but not in the cluster",
        "etcd: z in the cluster but not in the inventory",
    ]
