"""The checks a policy value must pass, as plain functions (no pydantic): the model
validates with them, and the pytest plugin re-checks its cached copy of the policy with
the same functions, so an edited cache cannot set what `policy.yaml` could not.

Each raises ValueError with the message a user sees."""

from __future__ import annotations

import keyword
import math
import re

from test_policy_engine.policy.enforcement import MODES
from test_policy_engine.policy.globs import glob_problem

#: Markers pytest and its plugins already own: a category must not reuse them.
BUILTIN_MARKERS = frozenset(
    {
        "filterwarnings",
        "parametrize",
        "skip",
        "skipif",
        "usefixtures",
        "xfail",
        "tryfirst",
        "trylast",
        "timeout",
        "xdist_group",
    }
)

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\Z")
CATEGORY_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
RULE_ID = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]\Z")


def check_glob(value: str) -> str:
    problem = glob_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_identifier(value: str) -> str:
    if not IDENT.match(value) or keyword.iskeyword(value):
        raise ValueError("must be a Python identifier such as 'slow' or 'db_tests'")
    return value


def check_marker(value: str) -> str:
    check_identifier(value)
    if value in BUILTIN_MARKERS:
        raise ValueError(f"'{value}' is a marker pytest or one of its plugins already defines")
    return value


def check_dotted(value: str) -> str:
    if not DOTTED.match(value) or any(keyword.iskeyword(p) for p in value.split(".")):
        raise ValueError("must be a dotted name such as 'time.sleep' or 'requests.get'")
    return value


def check_category_name(value: str) -> str:
    if not CATEGORY_NAME.match(value):
        raise ValueError("a category name is lower case letters, digits and '_', e.g. 'unit'")
    return value


def check_rule_id(value: str) -> str:
    if not RULE_ID.match(value):
        raise ValueError("a rule id is lower case letters, digits and '-', e.g. 'real-sleep'")
    return value


#: The limits a policy may set: pytest-timeout's timer and the audit's figures stay
#: meaningful (a 1e10 s limit overflowed pytest-timeout; 1e-5 s is below the timer).
MIN_SECONDS = 0.001
MAX_SECONDS = 86_400.0


def check_seconds(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number of seconds")
    if value <= 0:
        raise ValueError("must be greater than 0 seconds")
    if not MIN_SECONDS <= value <= MAX_SECONDS:
        raise ValueError(f"must be from {MIN_SECONDS:g} to {MAX_SECONDS:,g} seconds (a day)")
    return float(value)


def check_workers(value: int | str) -> int | str:
    if isinstance(value, str) and value != "auto":
        raise ValueError("must be 'auto' or a number of workers")
    if isinstance(value, int) and not 1 <= value <= 1024:
        raise ValueError("must be 'auto' or a number of workers from 1 to 1024")
    return value


def check_enforce(value: object) -> str:
    """`enforce:` as the plugin's cached copy holds it."""
    if value not in MODES:
        raise ValueError(f"must be 'fail' or 'warn' (got {value!r})")
    return str(value)
