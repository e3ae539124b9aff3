"""etcd_member decides from the live registrations; a second run must change nothing."""

from ansible_collections.cloudphone.infra.plugins.module_utils.etcd import find, initial_cluster, normalise
from ansible_collections.cloudphone.infra.plugins.modules.etcd_member import plan

URL = {n: f"https://10.0.0.{i}:2380" for i, n in enumerate(("data1", "data2", "data3", "data4"), 1)}


def registration(mid, name, started=True):
    return normalise({"ID": mid, "name": name if started else "", "peerURLs": [URL[name]],
                      "clientURLs": [URL[name].replace("2380", "2379")] if started else []})


def cluster(*extra):
    return [registration("11", "data1"), registration("22", "data2"), registration("33", "data3")] + list(extra)


def test_present_member_is_left_alone():
    action, current = plan(cluster(), "data2", [URL["data2"]], "present", False)
    assert action == "none" and current["id"] == "22"


def test_new_member_is_added_and_an_unstarted_one_is_not_added_twice():
    assert plan(cluster(), "data4", [URL["data4"]], "present", False) == ("added", None)
    waiting = registration("44", "data4", started=False)
    action, current = plan(cluster(waiting), "data4", [URL["data4"]], "present", False)
    assert action == "none" and current["id"] == "44"


def test_replace_removes_a_started_registration_once():
    members = cluster()
    action, stale = plan(members, "data3", [URL["data3"]], "present", True)
    assert action == "replaced" and stale["id"] == "33"
    # After the first run the member is registered again, not started yet: nothing more to do.
    rerun = cluster()[:2] + [registration("99", "data3", started=False)]
    action, current = plan(rerun, "data3", [URL["data3"]], "present", True)
    assert action == "none" and current["id"] == "99"


def test_changed_peer_url_is_an_update():
    action, current = plan(cluster(), "data2", ["https://10.9.9.9:2380"], "present", False)
    assert action == "updated" and current["id"] == "22"


def test_absent():
    action, current = plan(cluster(), "data3", [], "absent", False)
    assert action == "removed" and current["id"] == "33"
    assert plan(cluster(), "data4", [], "absent", False) == ("none", None)


def test_find_by_name_or_peer_url():
    assert find(cluster(), "data1", [])["id"] == "11"
    assert find(cluster(registration("44", "data4", started=False)), "data4", [URL["data4"]])["id"] == "44"


def test_initial_cluster_names_the_joining_member():
    members = cluster()[:2] + [registration("99", "data3", started=False)]
    assert initial_cluster(members, "data3", "99") == ",".join(f"{n}={URL[n]}" for n in ("data1", "data2", "data3"))
