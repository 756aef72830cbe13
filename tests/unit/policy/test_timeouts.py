import pytest
from test_policy_engine.policy.categories import Resolution
from test_policy_engine.policy.timeouts import (
    effective_method,
    format_limit,
    marker_timeout,
    properties,
)


@pytest.mark.parametrize(("seconds", "text"),
                         [(1, "1"), (1.0, "1"), (2.5, "2.5"), (0, "0"), (30.0, "30"),
                          (0.1, "0.1"), (1e-05, "0.00001"), (120.25, "120.25")])
def test_limits_are_written_as_plain_decimals(seconds, text):
    assert format_limit(seconds) == text


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [((10,), {}, (10.0, None)), ((), {"timeout": 2.5}, (2.5, None)),
     ((3, "thread"), {}, (3.0, "thread")), ((), {"method": "thread"}, (None, "thread")),
     (("soon",), {}, (None, None)), ((0,), {}, (0.0, None))],
)
def test_a_timeout_marker_is_read_as_pytest_timeout_reads_it(args, kwargs, expected):
    assert marker_timeout(args, kwargs) == expected


def test_signal_falls_back_to_thread_without_sigalrm():
    assert effective_method("signal", has_sigalrm=True) == ("signal", "")
    method, note = effective_method("signal", has_sigalrm=False)
    assert method == "thread"
    assert "SIGALRM" in note


def test_the_three_junit_properties_name_category_limit_and_reason():
    assert properties(Resolution("slow", 30.0, "marker slow")) == [
        ("test_policy.category", "slow"),
        ("test_policy.limit", "30"),
        ("test_policy.reason", "marker slow"),
    ]
