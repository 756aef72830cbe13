"""The guard's pure decisions: which events are forbidden, what the report says."""

import pickle
import socket

import pytest
from test_policy_engine.guard.rules import (
    GuardViolation,
    allowed_by_marks,
    hints_for,
    host_allowed,
    judge,
    report,
    rules_for,
    sleep_forbidden,
)
from test_policy_engine.plugin.cache import PluginForbid, from_json, from_policy, to_json
from test_policy_engine.policy.loader import parse_policy


def forbid(mode="strict", network=True, subprocess=True, sleep=True, loopback=True,
           allow_hosts=(), sleep_over=0.01):
    return PluginForbid(mode, network, loopback, tuple(allow_hosts), subprocess, sleep,
                        sleep_over)


def rules(**kwargs):
    return rules_for("unit", forbid(**kwargs), {"network": "n", "subprocess": "s",
                                                "sleep": "z"})


class FakeSocket:
    def __init__(self, family):
        self.family = family


def test_a_category_without_forbid_or_with_mode_off_or_no_kind_guards_nothing():
    assert rules_for("unit", None, {}) is None
    assert rules_for("unit", forbid(mode="off"), {}) is None
    assert rules_for("unit", forbid(network=False, subprocess=False, sleep=False), {}) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST.",
                                  "0.0.0.0", "", None])
def test_loopback_and_this_machine_are_allowed_by_default(host):
    assert host_allowed(rules(), host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_off_forbids_loopback_too(host):
    assert not host_allowed(rules(loopback=False), host)


def test_allowed_hosts_match_names_exactly_and_addresses_by_network():
    allowed = rules(allow_hosts=["db.test", "10.0.0.0/8", "2001:db8::1"])
    assert host_allowed(allowed, "DB.test")
    assert host_allowed(allowed, b"db.test")
    assert host_allowed(allowed, "10.20.30.40")
    assert host_allowed(allowed, "2001:db8::1")
    assert not host_allowed(allowed, "other.db.test")
    assert not host_allowed(allowed, "192.0.2.1")
    assert not host_allowed(allowed, "<broadcast>")


def test_connections_on_unix_sockets_are_never_judged():
    event = ("socket.connect", (FakeSocket(socket.AF_UNIX), "/tmp/sock"))
    assert judge(rules(), *event) is None
    found = judge(rules(), "socket.connect", (FakeSocket(socket.AF_INET), ("192.0.2.1", 443)))
    assert found == ("network", "socket.connect(('192.0.2.1', 443))")


def test_name_lookups_of_other_hosts_are_forbidden_and_of_loopback_not():
    assert judge(rules(), "socket.getaddrinfo", ("example.org", 443, 0, 1, 0)) == (
        "network", "socket.getaddrinfo('example.org', 443)")
    assert judge(rules(), "socket.getaddrinfo", ("localhost", 443, 0, 1, 0)) is None
    assert judge(rules(network=False), "socket.getaddrinfo", ("example.org", 443)) is None


def test_every_way_of_starting_a_process_is_forbidden_only_where_subprocess_is():
    assert judge(rules(), "subprocess.Popen", ("git", ["git", "status"], None, None)) == (
        "subprocess", "subprocess.Popen(['git', 'status'])")
    assert judge(rules(), "os.system", (b"make",)) == ("subprocess", "os.system('make')")
    assert judge(rules(), "os.fork", ()) == ("subprocess", "os.fork()")
    assert judge(rules(subprocess=False), "os.system", (b"make",)) is None
    assert judge(rules(), "open", ("f", "r", 0)) is None


def test_sleeps_up_to_the_threshold_are_allowed():
    assert not sleep_forbidden(rules(), 0)
    assert not sleep_forbidden(rules(), 0.01)
    assert sleep_forbidden(rules(), 0.5)
    assert not sleep_forbidden(rules(), "soon")  # the real sleep reports the bad argument
    assert not sleep_forbidden(rules(sleep=False), 5)


def test_allowing_kinds_removes_them_and_allowing_all_guards_nothing():
    base = rules()
    assert base.without(["sleep"]).kinds == {"network", "subprocess"}
    assert base.without([]) is base
    assert base.without(["network", "subprocess", "sleep"]) is None
    assert allowed_by_marks([("network",), ("sleep", "netwrok")]) == (
        ["network", "sleep"], ["netwrok"])


def test_the_report_is_one_line_naming_the_call_its_site_and_the_way_out():
    hints = hints_for("unit", {"network": {"unit"}}, {"integration": "integration"},
                      "policy.yaml")
    found = rules_for("unit", forbid(), hints)
    assert report(found, "network", "socket.connect(('93.184.216.34', 443))",
                  "app/client.py:42 in fetch()") == (
        "unit tests may not open network connections: socket.connect(('93.184.216.34', 443)) "
        "from app/client.py:42 in fetch() \N{EM DASH} mark it integration, mock it, or allow "
        "the host in policy.yaml")


def test_the_violation_survives_pickling_for_xdist():
    again = pickle.loads(pickle.dumps(GuardViolation("unit tests may not sleep for real")))
    assert isinstance(again, GuardViolation)
    assert str(again) == "unit tests may not sleep for real"


def test_forbid_goes_through_the_plugins_cached_copy_unchanged():
    policy = parse_policy(b"""\
version: 1
categories:
  unit:
    limit: 1
    default: true
    forbid: {mode: warn, network: true, loopback: false, allow_hosts: [db.test, 10.0.0.0/8]}
  slow: {limit: 30, markers: [slow]}
""", "policy.yaml")
    plain = from_policy(policy)
    assert plain.categories["unit"].forbid == PluginForbid(
        "warn", True, False, ("db.test", "10.0.0.0/8"), False, False, 0.01)
    assert plain.categories["slow"].forbid is None
    assert from_json(to_json(plain)) == plain


def test_a_malformed_allowed_host_is_reported_on_its_line():
    from test_policy_engine.policy.errors import UserError

    with pytest.raises(UserError) as caught:
        parse_policy(b"""\
version: 1
categories:
  unit:
    limit: 1
    default: true
    forbid:
      network: true
      allow_hosts: ["not a host"]
""", "policy.yaml")
    assert str(caught.value) == (
        "policy.yaml:8:21: categories.unit.forbid.allow_hosts[0]: must be a host name "
        "('db.local'), an IP address ('10.0.0.5') or a network ('10.0.0.0/8') "
        "(got 'not a host')")


def test_mode_off_written_unquoted_means_off_not_a_type_error():
    policy = parse_policy(b"""\
version: 1
categories:
  unit:
    limit: 1
    default: true
    forbid:
      mode: off
      sleep: true
""", "policy.yaml")
    forbid = from_policy(policy).categories["unit"].forbid
    assert forbid is not None
    assert forbid.mode == "off"
    assert rules_for("unit", forbid, {}) is None
