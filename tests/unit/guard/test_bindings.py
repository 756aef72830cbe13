"""The index of names bound to a real function, on modules made here.

The "real function" of each test is an object made by the test (a fresh function, or a
`functools.partial`, which like a builtin does not bind as a method), so nothing of this
process, and not the real `time.sleep` (which this project's own guard patches around
these tests), is touched.
"""

import functools
import sys
import types

import pytest
from test_policy_engine.guard.bindings import Bindings, restore


def module(monkeypatch, name, **namespace):
    made = types.ModuleType(name)
    made.__dict__.update(namespace)
    monkeypatch.setitem(sys.modules, name, made)
    return made


def define(made, source):
    exec(source, made.__dict__)  # functions and classes whose __module__ is the module


@pytest.fixture
def real():
    def nap(seconds=0):
        return ("real", seconds)

    return nap


@pytest.fixture
def builtin_like():
    return functools.partial(lambda seconds: ("real", seconds))


def callable_object(tag):
    """A replacement that, like a builtin, does not bind as a method."""
    return functools.partial(lambda *args: (tag, *args))


def replacement(tag):
    def guarded(*args):
        return (tag, *args)

    return guarded


def indexed(pairs, skip=()):
    bindings = Bindings(skip=skip)
    bindings.refresh(pairs)
    return bindings


def test_a_from_import_in_a_module_is_replaced_while_patched_and_put_back_after(
        monkeypatch, real):
    helper = module(monkeypatch, "tp_fake_helper", sleep=real, other=real)
    guarded = replacement("guarded")
    done = indexed(((real, guarded),)).patch()
    assert helper.sleep is guarded
    assert helper.other is guarded
    restore(done)
    assert helper.sleep is real
    assert helper.other is real


def test_class_attributes_are_replaced_so_that_calls_through_an_instance_still_work(
        monkeypatch, real, builtin_like):
    helper = module(monkeypatch, "tp_fake_classes", real=real, builtin_like=builtin_like)
    define(helper, """
class Plain:
    pause = builtin_like

class Static:
    pause = staticmethod(real)

class Unbound:
    pause = real
""")
    bindings = indexed(((real, replacement("guarded")),
                        (builtin_like, callable_object("guarded"))))
    done = bindings.patch()
    assert helper.Plain().pause(2) == ("guarded", 2)
    assert helper.Static().pause(3) == ("guarded", 3)
    assert helper.Unbound.pause(4) == ("guarded", 4)
    restore(done)
    assert helper.Plain.__dict__["pause"] is builtin_like
    assert helper.Static().pause(5) == ("real", 5)
    assert helper.Unbound.__dict__["pause"] is real


def test_default_arguments_of_functions_and_methods_are_replaced_and_put_back(
        monkeypatch, real):
    helper = module(monkeypatch, "tp_fake_defaults", real=real)
    define(helper, """
def retry(call, sleep=real):
    return sleep(1)

def wait(*, pause=real):
    return pause(2)

class Client:
    def backoff(self, seconds, sleep=real):
        return sleep(seconds)
""")
    done = indexed(((real, replacement("guarded")),)).patch()
    assert helper.retry(None) == ("guarded", 1)
    assert helper.wait() == ("guarded", 2)
    assert helper.Client().backoff(3) == ("guarded", 3)
    restore(done)
    assert helper.retry(None) == ("real", 1)
    assert helper.wait() == ("real", 2)
    assert helper.Client().backoff(3) == ("real", 3)


def test_a_binding_already_replaced_by_a_mock_is_left_alone(monkeypatch, real):
    mocked = replacement("mock")
    helper = module(monkeypatch, "tp_fake_mocked", sleep=mocked, real=real)
    bindings = indexed(((real, replacement("guarded")),))
    helper.real = mocked  # mocked after the scan, before the test
    assert bindings.patch() == []
    assert (helper.sleep, helper.real) == (mocked, mocked)


def test_a_binding_changed_while_the_test_ran_is_not_put_back_over(monkeypatch, real):
    helper = module(monkeypatch, "tp_fake_changed", sleep=real)
    done = indexed(((real, replacement("guarded")),)).patch()
    mocked = replacement("mock")
    helper.sleep = mocked  # monkeypatch.setattr inside the test
    restore(done)
    assert helper.sleep is mocked


def test_tidy_puts_the_real_function_back_where_a_mock_undo_left_the_replacement(
        monkeypatch, real):
    guarded = replacement("guarded")
    helper = module(monkeypatch, "tp_fake_undone", sleep=real, real=real)
    define(helper, "class Poller:\n    pause = staticmethod(real)\n")
    bindings = indexed(((real, guarded),))
    done = bindings.patch()
    found = helper.sleep, helper.Poller.__dict__["pause"]  # what a mock set now records
    helper.sleep = helper.Poller.pause = replacement("mock")
    restore(done)
    helper.sleep, helper.Poller.pause = found  # the mock's undo, after the guard stopped
    bindings.tidy()
    assert helper.sleep is real
    assert helper.Poller.__dict__["pause"].__func__ is real


def test_a_module_that_bound_the_replacement_is_indexed_and_tidied(monkeypatch, real):
    guarded = replacement("guarded")
    bindings = indexed(((real, guarded),))
    helper = module(monkeypatch, "tp_fake_late", sleep=guarded)  # imported during a test
    bindings.refresh(((real, guarded),))
    assert bindings.patch() == []  # it is guarded already
    bindings.tidy()
    assert helper.sleep is real


def test_only_modules_imported_since_the_last_scan_are_scanned_and_gone_ones_are_dropped(
        monkeypatch, real):
    guarded = replacement("guarded")
    pairs = ((real, guarded),)
    first = module(monkeypatch, "tp_fake_first", sleep=real)
    bindings = indexed(pairs)
    first.later = real  # bound after its module was scanned: not seen (a documented limit)
    second = module(monkeypatch, "tp_fake_second", sleep=real)  # imported since: scanned
    bindings.refresh(pairs)
    done = bindings.patch()
    assert (first.sleep, first.later, second.sleep) == (guarded, real, guarded)
    restore(done)
    monkeypatch.delitem(sys.modules, "tp_fake_second")
    bindings.refresh(pairs)
    assert "tp_fake_second" not in bindings.modules
    restore(bindings.patch())
    assert second.sleep is real  # out of sys.modules: out of the index


def test_a_module_under_a_skipped_prefix_is_never_patched(monkeypatch, real):
    own = module(monkeypatch, "tp_fake_guard.hook", sleep=real)
    assert indexed(((real, replacement("guarded")),), skip=("tp_fake_guard",)).patch() == []
    assert own.sleep is real


def test_scanning_never_loads_a_lazy_module_or_trips_over_odd_objects(monkeypatch, real):
    class Lazy(types.ModuleType):
        def __getattribute__(self, name):
            raise AssertionError(f"the scan loaded the lazy module ({name})")

    class Proxy:
        @property
        def __class__(self):
            raise RuntimeError("working outside of a context")

    monkeypatch.setitem(sys.modules, "tp_fake_lazy", Lazy("tp_fake_lazy"))
    monkeypatch.setitem(sys.modules, "tp_fake_not_a_module", object())
    helper = module(monkeypatch, "tp_fake_odd", proxy=Proxy(), sleep=real)
    restore(indexed(((real, replacement("guarded")),)).patch())
    assert helper.sleep is real
