"""Decision logic of the RabbitMQ modules, fed with JSON captured from RabbitMQ 4.0.5 and 3.10.8.

The modules themselves run against real clusters in the rabbitmq Molecule scenario and the drill;
these tests pin down the choices (seed, refusals, health problems) for every shape of cluster.
"""

import json

import pytest

from ansible_collections.cloudphone.infra.plugins.module_utils import rabbitmq as rmq
from ansible_collections.cloudphone.infra.plugins.module_utils.health import HealthReport
from ansible_collections.cloudphone.infra.plugins.modules import rabbitmq_cluster, rabbitmq_cluster_info

N1, N2, N3 = "rabbit@data1", "rabbit@data2", "rabbit@data3"
NODES = [N1, N2, N3]


def status(members, running=None, partitions=None, alarms=None, maintenance=None, versions=None):
    running = members if running is None else running
    return {
        "alarms": alarms or [], "cluster_name": members[0], "disk_nodes": list(members), "ram_nodes": [],
        "running_nodes": list(running), "partitions": partitions or {},
        "maintenance_status": maintenance or {n: "not under maintenance" for n in running},
        "versions": versions or {n: {"rabbitmq_version": "4.0.5", "erlang_version": "27.3.4.1"} for n in running},
    }


def view(node, members, running=None):
    return rmq.NodeView(node, rmq.RUNNING, status(members, running))


def down(node):
    return rmq.NodeView(node, rmq.UNREACHABLE, error=f"{node}: unreachable")


# ---------------------------------------------------------------- a stopped node in check mode


def test_a_stopped_node_is_a_member_while_its_running_peers_list_it():
    views = {N2: view(N2, NODES, running=[N1, N2]), N3: down(N3)}
    assert rabbitmq_cluster.members_listing(N1, views) == NODES


def test_a_stopped_node_no_running_peer_lists_is_not_known_to_be_a_member():
    assert rabbitmq_cluster.members_listing(N3, {N1: view(N1, [N1, N2]), N2: view(N2, [N1, N2])}) is None
    assert rabbitmq_cluster.members_listing(N3, {N1: down(N1), N2: down(N2)}) is None


# ---------------------------------------------------------------- seed choice

def test_a_new_cluster_forms_around_the_first_node():
    alone = {n: view(n, [n]) for n in NODES}
    assert rabbitmq_cluster.choose_seed(N1, NODES, alone[N1], alone)[0] is None
    assert rabbitmq_cluster.choose_seed(N2, NODES, alone[N2], alone)[0] == N1
    assert rabbitmq_cluster.choose_seed(N3, NODES, alone[N3], alone)[0] == N1


def test_the_seed_is_any_member_of_the_largest_cluster_not_the_first_node():
    # After a failover data1 came back empty; data2 and data3 carry the cluster.
    views = {N1: view(N1, [N1]), N2: view(N2, [N2, N3]), N3: view(N3, [N2, N3])}
    seed, reason = rabbitmq_cluster.choose_seed(N1, NODES, views[N1], views)
    assert seed == N2
    assert "largest cluster" in reason


def test_a_down_first_node_does_not_block_the_join():
    views = {N1: down(N1), N2: view(N2, [N1, N2], running=[N2]), N3: view(N3, [N3])}
    assert rabbitmq_cluster.choose_seed(N3, NODES, views[N3], views)[0] == N2


def test_nothing_to_join_when_no_peer_runs():
    views = {N1: view(N1, [N1]), N2: down(N2), N3: down(N3)}
    seed, reason = rabbitmq_cluster.choose_seed(N1, NODES, views[N1], views)
    assert seed is None and "no other node" in reason


# ---------------------------------------------------------------- CLI plumbing

class FakeModule:
    """Stands in for AnsibleModule.run_command with canned CLI answers."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.inputs = []

    def get_bin_path(self, tool, required=False):
        return f"/usr/sbin/{tool}"

    def run_command(self, cmd, data=None, environ_update=None):
        self.calls.append(cmd)
        self.inputs.append((data, environ_update))
        key = " ".join([cmd[0].rsplit("/", 1)[-1]] + list(cmd[1:]))
        for prefix, answer in self.answers.items():
            if key.startswith(prefix):
                return answer
        raise AssertionError(f"unexpected command {key}")


def test_views_tell_a_stopped_app_from_an_unreachable_node():
    module = FakeModule({
        "rabbitmqctl cluster_status": (0, json.dumps(status([N1, N2])), ""),
        "rabbitmqctl -n rabbit@data2 cluster_status": (64, "", "Error: this command requires the 'rabbit' app to be running"),
        "rabbitmqctl -n rabbit@data3 cluster_status": (69, "", "Error: unable to perform an operation on node"),
    })
    cli = rmq.RabbitCLI(module)
    assert cli.view().members == [N1, N2]
    assert cli.view(N2).state == rmq.APP_STOPPED
    third = cli.view(N3)
    assert third.state == rmq.UNREACHABLE and "rabbit@data3" in third.error


def test_messages_are_counted_across_virtual_hosts():
    module = FakeModule({
        "rabbitmqctl list_vhosts": (0, '[{"name":"/"},{"name":"t"}]', ""),
        "rabbitmqctl list_queues -p / ": (0, '[{"name":"keepme","messages":5},{"name":"empty","messages":0}]', ""),
        "rabbitmqctl list_queues -p t ": (0, '[{"name":"x","messages":2}]', ""),
    })
    held, total = rmq.count_messages(rmq.RabbitCLI(module))
    assert total == 7
    assert held == {"keepme (vhost /)": 5, "x (vhost t)": 2}


def test_unparsable_output_is_an_error_not_a_guess():
    with pytest.raises(rmq.CtlError):
        rmq.parse_json("Listing queues ...\nnot json", ["rabbitmqctl"])


# ---------------------------------------------------------------- health assessment

def assess(st, queues=(), critical=None, expected=NODES):
    report = HealthReport()
    details = rabbitmq_cluster_info.assess(report, expected, st, list(queues), critical or {}, 3)
    return report, details


def qq(name, members=NODES, online=NODES, leader=N1, vhost="cloudphone"):
    return {"vhost": vhost, "name": name, "leader": leader, "members": sorted(members), "online": sorted(online)}


def test_a_whole_cluster_is_healthy():
    report, details = assess(status(NODES), [qq("cloudphone.a")], {n: [] for n in NODES})
    assert report.healthy, report.problems
    assert details["safe_to_restart"] == NODES
    assert report.topology == {"queue_leaders": {"cloudphone/cloudphone.a": N1}}


def test_a_stopped_member_and_its_offline_replicas_are_problems():
    st = status(NODES, running=[N1, N2])
    report, details = assess(st, [qq("cloudphone.a", online=[N1, N2])], {N1: ["cloudphone/cloudphone.a"], N2: ["cloudphone/cloudphone.a"]})
    text = " ".join(report.problems)
    assert "rabbit@data3 is a member but not running" in text
    assert "2 of 3 members online (rabbit@data3 offline)" in text
    assert details["safe_to_restart"] == []


def test_partitions_alarms_maintenance_and_missing_members_are_reported():
    st = status([N1, N2], partitions={N1: [N2]}, alarms=[{"node": N2, "type": "resource_limit", "resource": "memory"}],
                maintenance={N1: "not under maintenance", N2: "under maintenance"})
    report, _ = assess(st)
    text = " ".join(report.problems)
    assert "rabbit@data3 expected by the inventory but not in the cluster" in text
    assert "network partition: rabbit@data1 cannot see rabbit@data2" in text
    assert "memory alarm on rabbit@data2" in text
    assert "rabbit@data2 is in maintenance mode" in text


def test_a_shrunk_quorum_queue_names_the_command_that_regrows_it():
    report, _ = assess(status(NODES), [qq("cloudphone.a", members=[N1, N2], online=[N1, N2])])
    assert any("fewer than its target of 3: rabbitmq-queues grow rabbit@data3 all" in p for p in report.problems)


def test_a_leaderless_queue_and_mixed_versions_are_problems():
    versions = {N1: {"rabbitmq_version": "4.0.5"}, N2: {"rabbitmq_version": "4.0.5"}, N3: {"rabbitmq_version": "3.13.7"}}
    report, _ = assess(status(NODES, versions=versions), [qq("cloudphone.a", leader=None)])
    text = " ".join(report.problems)
    assert "has no leader" in text and "mixed RabbitMQ versions" in text


def test_a_password_goes_on_stdin_with_the_node_in_the_environment():
    module = FakeModule({"rabbitmqctl authenticate_user app": (0, "Success", "")})
    cmd, rc, _out, _err = rmq.RabbitCLI(module).run("rabbitmqctl", ["authenticate_user", "app"], "rabbit@data2",
                                                    stdin="s3cret")
    # rabbitmqctl never reads the stdin password when -n is on its command line (it hangs).
    assert rc == 0 and "-n" not in cmd and "s3cret" not in cmd
    assert module.inputs == [("s3cret", {"LC_ALL": "C.UTF-8", "RABBITMQ_NODENAME": "rabbit@data2"})]


# ------------------------------------------------------------ rabbitmq_user (check mode through a plan)

def user_spec(**over):
    from ansible_collections.cloudphone.infra.plugins.modules import rabbitmq_user
    spec = {"user": "app", "state": "present", "password": "s3cret", "tags": [],
            "permissions": rabbitmq_user.wanted_permissions(
                [{"vhost": "cloudphone", "configure_priv": "^c", "write_priv": "^c", "read_priv": "^c"},
                 {"vhost": "/", "configure_priv": "^$", "write_priv": "^$", "read_priv": "^$"}])}
    spec.update(over)
    return rabbitmq_user, spec


def test_user_plan_is_empty_when_the_user_matches_and_nothing_grants_are_ignored():
    mod, spec = user_spec()
    before = {"tags": [], "permissions": {"cloudphone": ("^c", "^c", "^c")}}
    assert spec["permissions"] == {"cloudphone": ("^c", "^c", "^c")}
    assert mod.plan(before, spec, password_ok=True) == []
    assert mod.plan(before, spec, password_ok=None) == []


def test_user_plan_names_each_difference():
    mod, spec = user_spec(tags=["monitoring"])
    before = {"tags": [], "permissions": {"cloudphone": ("^c", "^c", ".*"), "other": (".*", ".*", ".*")}}
    assert mod.plan(before, spec, password_ok=False) == [
        ["change_password", "app"],
        ["set_user_tags", "app", "monitoring"],
        ["clear_permissions", "-p", "other", "app"],
        ["set_permissions", "-p", "cloudphone", "app", "^c", "^c", "^c"],
    ]


def test_user_plan_never_puts_the_password_on_a_command_line():
    mod, spec = user_spec(tags=["monitoring"])
    for before, password_ok in ((None, None), ({"tags": [], "permissions": {}}, False)):
        calls = mod.plan(before, spec, password_ok)
        assert calls and all("s3cret" not in arg for call in calls for arg in call)
        assert calls[0][0] in mod.PASSWORD_ON_STDIN


def test_user_plan_creates_and_removes():
    mod, spec = user_spec()
    assert mod.plan(None, spec, None)[0] == ["add_user", "app"]
    assert mod.plan(None, dict(spec, state="absent"), None) == []
    assert mod.plan({"tags": [], "permissions": {}}, dict(spec, state="absent"), None) == [["delete_user", "app"]]
