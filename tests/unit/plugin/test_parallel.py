from pathlib import Path

import pytest
from test_policy_engine.plugin.parallel import (
    Request,
    cgroup_cpu_limit,
    cgroup_dirs,
    decide,
    grouping_ignored,
    quota_v1,
    quota_v2,
    safe_dist,
    usable_cpus,
)
from test_policy_engine.policy.model import Parallel

PARALLEL = Parallel(enabled=True, workers="auto", dist="loadgroup")
NO_ENV: dict[str, str] = {}


def two_cpus() -> int:
    return 2


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("max 100000", None), ("200000 100000", 2.0), ("150000 100000\n", 1.5),
     ("50000 100000", 0.5), ("garbage", None), ("0 100000", None)],
)
def test_cgroup_v2_cpu_max_gives_the_allowed_cpus(text, cpus):
    assert quota_v2(text) == cpus


def test_cgroup_v1_quota_of_minus_one_means_no_limit():
    assert quota_v1("-1\n", "100000\n") is None
    assert quota_v1("300000\n", "100000\n") == 3.0


def test_proc_self_cgroup_names_the_v2_and_v1_cpu_paths():
    text = "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n0::/user.slice/x.scope\n"
    assert cgroup_dirs(text) == ("/user.slice/x.scope", "/docker/abc")


def fake_root(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_tightest_v2_quota_on_the_cgroup_chain_counts(tmp_path):
    root = fake_root(tmp_path, {
        "proc/self/cgroup": "0::/a/b\n",
        "sys/fs/cgroup/cpu.max": "max 100000\n",
        "sys/fs/cgroup/a/cpu.max": "150000 100000\n",
        "sys/fs/cgroup/a/b/cpu.max": "max 100000\n",
    })
    assert cgroup_cpu_limit(root) == 1.5


def test_a_container_whose_cgroup_path_is_not_below_the_mount_reads_the_mount(tmp_path):
    root = fake_root(tmp_path, {
        "proc/self/cgroup": "0::/kubepods/pod1/c1\n",
        "sys/fs/cgroup/cpu.max": "200000 100000\n",
    })
    assert cgroup_cpu_limit(root) == 2.0


def test_a_v1_cfs_quota_counts(tmp_path):
    root = fake_root(tmp_path, {
        "proc/self/cgroup": "4:cpu,cpuacct:/job\n",
        "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us": "250000\n",
        "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us": "100000\n",
    })
    assert cgroup_cpu_limit(root) == 2.5


def test_no_cgroup_files_means_no_limit(tmp_path):
    assert cgroup_cpu_limit(tmp_path) is None


@pytest.mark.parametrize(("affinity", "quota", "cpus"),
                         [(64, 2.0, 2), (64, 1.5, 2), (4, None, 4), (2, 8.0, 2), (8, 0.2, 1)])
def test_usable_cpus_is_the_affinity_capped_by_the_quota_rounded_up(affinity, quota, cpus):
    assert usable_cpus(affinity, quota) == cpus


def test_by_default_the_policy_workers_and_dist_are_used():
    choice = decide(PARALLEL, "signal", Request(environ=NO_ENV), two_cpus)
    assert (choice.workers, choice.dist) == (2, "loadgroup")
    assert "auto: 2 usable CPUs" in choice.note


def test_a_fixed_worker_count_in_the_policy_is_used_as_is():
    policy = Parallel(workers=3, dist="load")
    assert decide(policy, "signal", Request(environ=NO_ENV), two_cpus).workers == 3


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (Request(numprocesses=0, environ=NO_ENV), "-n"),
        (Request(numprocesses=4, environ=NO_ENV), "-n"),
        (Request(numprocesses="auto", environ=NO_ENV), "-n"),
        (Request(dist_given=True, environ=NO_ENV), "--dist"),
        (Request(xdist=False, environ=NO_ENV), "no:xdist"),
        (Request(debugging=True, environ=NO_ENV), "--pdb"),
        (Request(collect_only=True, environ=NO_ENV), "collection only"),
        (Request(worker=True, environ=NO_ENV), "worker"),
        (Request(environ={"TEST_POLICY_SERIAL": "1"}), "TEST_POLICY_SERIAL=1"),
    ],
)
def test_the_plugin_leaves_xdist_alone_when_the_user_decided(request_, why):
    choice = decide(PARALLEL, "signal", request_, two_cpus)
    assert not choice.parallel
    assert why in choice.note


def test_serial_env_set_to_zero_does_not_opt_out():
    assert decide(PARALLEL, "signal", Request(environ={"TEST_POLICY_SERIAL": "0"}),
                  two_cpus).parallel


def test_a_disabled_policy_runs_serially():
    assert not decide(Parallel(enabled=False), "signal", Request(environ=NO_ENV),
                      two_cpus).parallel


def test_one_usable_cpu_runs_serially():
    choice = decide(PARALLEL, "signal", Request(environ=NO_ENV), lambda: 1)
    assert not choice.parallel
    assert "1 usable CPU" in choice.note


def test_xdists_auto_worker_override_is_honoured_for_auto():
    env = {"PYTEST_XDIST_AUTO_NUM_WORKERS": "3"}
    assert decide(PARALLEL, "signal", Request(environ=env), two_cpus).workers == 3


def test_thread_timeouts_with_a_grouping_dist_run_with_dist_load_and_say_why():
    choice = decide(PARALLEL, "thread", Request(environ=NO_ENV), two_cpus)
    assert choice.dist == "load"
    assert "#1371" in choice.note


@pytest.mark.parametrize("dist", ["load", "worksteal"])
def test_non_grouping_dist_modes_are_kept_with_thread_timeouts(dist):
    assert safe_dist(dist, "thread") == (dist, "")


@pytest.mark.parametrize(("pytest_version", "xdist_version", "ignored"),
                         [("9.2.0", "3.8.0", True), ("9.1.1", "3.8.0", False),
                          ("9.2.0", "3.9.0", False), ("10.0.0rc1", "3.8", True),
                          ("8.4.2", "3.6.1", False)])
def test_xdist_group_is_known_to_be_ignored_by_pytest_9_2_with_xdist_3_8(
        pytest_version, xdist_version, ignored):
    assert grouping_ignored(pytest_version, xdist_version) is ignored
