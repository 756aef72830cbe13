"""The policy model: what policy.yaml may say, validated and frozen.

Structure and types are checked by pydantic; the rules that span several fields
(exactly one default category, markers used once, known category names) are
checked by `cross_field_problems`, which reports each problem with the dotted
path of the field at fault so the loader can point at its line.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from test_policy_engine.policy import checks
from test_policy_engine.policy.enforcement import DEFAULT as DEFAULT_ENFORCE
from test_policy_engine.policy.enforcement import Enforce

POLICY_VERSION = 1


class PolicyConstraintError(ValueError):
    """Raised by the model validator; carries (dotted path, message, got, hint) tuples."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m, _ in problems))


Glob = Annotated[str, AfterValidator(checks.check_glob)]
Identifier = Annotated[str, AfterValidator(checks.check_identifier)]
MarkerName = Annotated[str, AfterValidator(checks.check_marker)]
DottedName = Annotated[str, AfterValidator(checks.check_dotted)]
CategoryName = Annotated[str, AfterValidator(checks.check_category_name)]
RuleId = Annotated[str, AfterValidator(checks.check_rule_id)]
Seconds = Annotated[float, AfterValidator(checks.check_seconds)]


Workers = Annotated[
    int | str,
    AfterValidator(checks.check_workers),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1024}, {"const": "auto"}]}
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


HOSTNAME = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\.[A-Za-z0-9_-]{1,63})*\.?\Z")


def _check_host(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        if not HOSTNAME.match(value):
            raise ValueError(
                "must be a host name ('db.local'), an IP address ('10.0.0.5') "
                "or a network ('10.0.0.0/8')"
            ) from None
    return value


Host = Annotated[str, AfterValidator(_check_host)]


def _yaml_off(value: object) -> object:
    """`mode: off` unquoted is YAML 1.1's false: it means `off`, as written."""
    return "off" if value is False else value


Mode = Annotated[Literal["off", "warn", "strict"], BeforeValidator(_yaml_off)]


class Forbid(_Model):
    """What a category's tests may not do at run time (the runtime guard)."""

    mode: Mode = Field(
        default="strict",
        description="`strict` fails a test that does a forbidden thing; `warn` lets it "
        "pass with a warning; `off` guards nothing.",
    )
    network: bool = Field(
        default=False,
        description="Forbid network connections and name look-ups (`socket.connect`, "
        "`socket.getaddrinfo`, ...) to hosts other than the allowed ones. "
        "AF_UNIX sockets and `socket.socketpair` are always allowed.",
    )
    loopback: bool = Field(
        default=True,
        description="With `network`: connections to loopback (`127.0.0.0/8`, `::1`, "
        "`localhost`) stay allowed.",
    )
    allow_hosts: tuple[Host, ...] = Field(
        default=(),
        description="With `network`: more allowed hosts: names (matched exactly, case "
        "insensitive), IP addresses or networks (`10.0.0.0/8`).",
    )
    subprocess: bool = Field(
        default=False,
        description="Forbid starting processes (`subprocess.*`, `os.system`, `os.exec*`, "
        "`os.posix_spawn*`, `os.fork`, `asyncio.create_subprocess_*`, `multiprocessing`).",
    )
    sleep: bool = Field(
        default=False,
        description="Forbid real `time.sleep` and `asyncio.sleep` longer than `sleep_over`.",
    )
    sleep_over: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        default=0.01,
        description="With `sleep`: sleeps up to this many seconds are allowed "
        "(`asyncio.sleep(0)` yields to the event loop).",
    )


class Category(_Model):
    """A test category and its time limit."""

    limit: Seconds = Field(
        description="Time limit in seconds for one test of this category, judged after "
        "the test ran (pytest-timeout stops it at `kill_after` times this)."
    )
    audit_limit: Seconds | None = Field(
        default=None,
        description="Threshold the CI audit uses instead of `limit` (defaults to `limit`).",
    )
    default: bool = Field(
        default=False,
        description="The category of tests that match no path and carry no marker. "
        "Exactly one category is the default.",
    )
    paths: tuple[Glob, ...] = Field(
        default=(),
        description="Globs on the test file's path relative to the rootdir "
        "(`tests/integration/**`). A glob without `/` matches a file name at any depth.",
    )
    markers: tuple[MarkerName, ...] = Field(
        default=(),
        description="pytest markers that put a test in this category (`slow`). "
        "They are registered for `--strict-markers`.",
    )
    description: str = Field(default="", description="One line shown by `pytest --markers`.")
    forbid: Forbid | None = Field(
        default=None,
        description="What this category's tests may not do at run time (network, "
        "processes, real sleeps). Without it the category guards nothing.",
    )

    @property
    def threshold(self) -> float:
        """The limit the CI audit judges this category by."""
        return self.audit_limit if self.audit_limit is not None else self.limit


class Parallel(_Model):
    """How pytest-xdist runs the suite when the user gave no `-n`."""

    enabled: bool = Field(default=True, description="Run in parallel by default.")
    workers: Workers = Field(
        default="auto",
        description="`auto` (the CPUs this process may use, cgroup quota included) "
        "or a number of workers.",
    )
    dist: Literal["load", "loadscope", "loadfile", "loadgroup", "worksteal"] = Field(
        default="loadgroup", description="pytest-xdist distribution mode."
    )
    groups: dict[Identifier, tuple[Glob, ...]] = Field(
        default_factory=dict,
        description="Group name -> globs. Tests in matching files get `xdist_group(name)` "
        "and so run on one worker under `loadgroup`.",
    )


class Mocks(_Model):
    """What, found in the same test, shows that a banned call does not really happen."""

    targets: tuple[DottedName, ...] = Field(
        default=(),
        description="Patch targets: a patch-like call (`mock.patch('time.sleep')`, "
        "`monkeypatch.setattr('time.sleep', ...)`, `patch.object(time, 'sleep')`) of a "
        "target clears the calls it replaces: the call it names, or the calls under a "
        "module or class it names (also with a package prefix, `pkg.mod.time.sleep`); "
        "a target naming none of the calls is a layer every call goes through "
        "(`requests.Session.request`) and clears them all.",
    )
    fixtures: tuple[Identifier, ...] = Field(
        default=(),
        description="Fixtures that intercept the call when requested (`requests_mock`).",
    )
    decorators: tuple[DottedName, ...] = Field(
        default=(),
        description="Decorators, or `pytestmark` markers, that intercept the call "
        "(`responses.activate`, `pytest.mark.vcr`).",
    )
    context_managers: tuple[DottedName, ...] = Field(
        default=(),
        description="Context managers that intercept the call inside their `with` block, "
        "in every form: `with X(...):`, `with X(...) as m:`, `with X:`, `async with X(...) "
        "as m:` (`responses.RequestsMock`, `respx.mock`).",
    )
    unless: tuple[DottedName, ...] = Field(
        default=(),
        description="Calls that let real calls through (`responses.add_passthru`, "
        "`fp.allow_unregistered`): a test that makes one, on any object with that method "
        "name, is not cleared by this pattern's fixtures, decorators or context managers "
        "(a patch of the call still clears it).",
    )
    unless_kwargs: tuple[Identifier, ...] = Field(
        default=(),
        description="Keyword arguments that let real calls through (`passthrough`, "
        "`real_http`): a test that passes one to any call, or whose decorator passes one "
        "(`@requests_mock.Mocker(real_http=True)`), is not cleared by this pattern's "
        "fixtures, decorators or context managers, whatever the value.",
    )
    starts: tuple[DottedName, ...] = Field(
        default=(),
        description="Calls that start a mock until it is stopped (`responses.start`, "
        "`respx.start`): in a test they clear the calls after them; in one of the "
        "`setup_methods` (or an autouse fixture) they clear the tests of its class. A mock "
        "made by one of the `context_managers` and started with `.start()` counts too "
        "(`self.r_mock = responses.RequestsMock()` then `self.r_mock.start()`).",
    )
    setup_methods: tuple[Identifier, ...] = Field(
        default=("setup_method", "setUp", "asyncSetUp", "setup_class", "setUpClass"),
        description="Methods that run before every test of their class (xunit and "
        "unittest styles): a patch made, or a mock started, in one of them clears every "
        "test of the class.",
    )


class Clients(_Model):
    """Client classes whose construction is no request but whose requests are."""

    classes: tuple[DottedName, ...] = Field(
        min_length=1,
        description="Client classes or factories (`httpx.Client`, `requests.Session`): "
        "building one is not reported; a call of one of `methods` on a client bound by "
        "`with K(...) as c:`, `async with`, or `c = K(...)` (earlier in the same function "
        "or module), or on `K(...)` itself, is. A client built with one of the pattern's "
        "`safe_kwargs` is safe.",
    )
    methods: tuple[Identifier, ...] = Field(
        min_length=1,
        description="The client methods that make a request (`get`, `send`, `stream`).",
    )


class LocalServers(_Model):
    """Which request URLs point at a server the test suite runs on this machine."""

    loopback: bool = Field(
        default=True,
        description="A URL argument that is a loopback literal (`'http://127.0.0.1:8000/'`, "
        "`'http://localhost/'`, `'http://[::1]/'`, also as the start of an f-string) is "
        "local: the call is not reported.",
    )
    fixtures: tuple[Identifier, ...] = Field(
        default=(),
        description="Fixtures that run a local server (`httpbin`, `httpserver`): a URL "
        "argument built from one the test requests as a parameter (`httpbin.url`, "
        "`httpbin('get')`, `httpserver.url_for('/')`, `f'{server.url}/x'`) is local. Only "
        "that call is cleared, never the whole test.",
    )


class BannedPattern(_Model):
    """A slow-test pattern the linter rejects unless it is mocked."""

    id: RuleId = Field(description="Stable rule id; the Semgrep rule is `test-policy.<id>`.")
    calls: tuple[DottedName, ...] = Field(
        min_length=1,
        description="Dotted names of the banned calls, through any import form "
        "(`import time as t`, `from time import sleep`).",
    )
    why: str = Field(min_length=1, description="Why the call makes a test slow.")
    fix: str = Field(min_length=1, description="What to do instead.")
    severity: Literal["error", "warning"] = Field(
        default="error",
        description="The severity Semgrep shows. Both block the commit: the hook runs "
        "Semgrep with `--error`; use `# nosemgrep: <id>` for a justified exception.",
    )
    min_seconds: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Calls whose first argument is a number below this are allowed "
        "(`asyncio.sleep(0)` yields to the event loop).",
    )
    safe_kwargs: tuple[Identifier, ...] = Field(
        default=(),
        description="Calls passing any of these keyword arguments are not real "
        "(`httpx.Client(transport=...)`).",
    )
    clients: Clients | None = Field(
        default=None,
        description="Client classes: their construction is not reported, their requests "
        "are (`client.get(...)` on `with httpx.Client() as client`).",
    )
    local_servers: LocalServers | None = Field(
        default=None,
        description="Requests to a server on this machine (loopback URLs, URLs of "
        "local-server fixtures) are not reported: they do not wait on the network.",
    )
    cleared_by: Mocks = Field(
        default_factory=Mocks, description="The mocks that clear the call (data, not code)."
    )
    allowed_paths: tuple[Glob, ...] = Field(
        default=(),
        description="Globs of test files where this pattern is allowed "
        "(real subprocesses in `tests/integration/**`).",
    )


class Lint(_Model):
    """Which files the Semgrep rules scan."""

    paths: tuple[Glob, ...] = Field(
        default=("tests/**", "test_*.py", "*_test.py", "conftest.py"),
        description="Globs of test files the rules apply to.",
    )
    exclude: tuple[Glob, ...] = Field(
        default=(),
        description="Globs of files the rules never scan (deliberately slow examples, "
        "vendored code).",
    )
    rule_tests: bool = Field(
        default=True,
        description="Also write each rule's `semgrep --test` sample (`rules/<id>.py`, "
        "deliberate violations) beside it. `test-policy init` sets it false: an adopter's "
        "repository gets the rules only, so its own pytest, ruff and doctest runs never "
        "collect the samples.",
    )


class Audit(_Model):
    """CI audit settings."""

    junit_files: dict[Glob, CategoryName] = Field(
        default_factory=dict,
        description="JUnit file-name glob -> category, for result files whose tests carry "
        "no category (a Vitest job's `test-results-frontend.xml`).",
    )


class Policy(_Model):
    """The whole policy.yaml."""

    version: Literal[1] = Field(description="Format version of this file; always 1.")
    timeout_method: Literal["signal", "thread"] = Field(
        default="signal",
        description="How pytest-timeout stops a test. `signal` fails just the test; "
        "`thread` kills the process (falls back to `thread` where SIGALRM is missing).",
    )
    warn_ratio: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        default=0.8, description="A test over this fraction of its limit is reported as a warning."
    )
    kill_after: Annotated[float, Field(ge=1, le=1000, allow_inf_nan=False)] = Field(
        default=10,
        description="Where pytest-timeout stops a hung test, as a multiple of its limit. "
        "The limit itself is a verdict judged after the test ran (a test over it fails "
        "with one line); `1` interrupts the test at its limit instead.",
    )
    enforce: Enforce = Field(
        default=DEFAULT_ENFORCE,
        description="`fail`: a test over its limit fails (the plugin) and fails the build "
        "(the audit). `warn`: report-only mode for the first weeks: the same tests are "
        "found, named and counted, and nothing fails because of a limit.",
    )
    categories: dict[CategoryName, Category] = Field(
        min_length=1, description="Test categories by name."
    )
    parallel: Parallel = Field(default_factory=Parallel)
    banned: tuple[BannedPattern, ...] = Field(
        default=(), description="Slow-test patterns the generated Semgrep rules reject."
    )
    lint: Lint = Field(default_factory=Lint)
    audit: Audit = Field(default_factory=Audit)

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        title="test-policy-engine policy",
        json_schema_extra={"$comment": "Generated by `test-policy schema`; do not edit."},
    )

    @model_validator(mode="after")
    def _cross_fields(self) -> Policy:
        problems = cross_field_problems(self)
        if problems:
            raise PolicyConstraintError(problems)
        return self

    @property
    def default_category(self) -> str:
        return next(name for name, cat in self.categories.items() if cat.default)

    def marker_owner(self, marker: str) -> str | None:
        for name, category in self.categories.items():
            if marker in category.markers:
                return name
        return None


def cross_field_problems(policy: Policy) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Problems that span several fields, as (path, message, hint)."""
    problems: list[tuple[tuple[str | int, ...], str, str]] = []
    defaults = [name for name, cat in policy.categories.items() if cat.default]
    if not defaults:
        problems.append(
            (
                ("categories",),
                "no category is the default (got none with 'default: true')",
                "mark the category for tests that match no path or marker with 'default: true'",
            )
        )
    for extra in defaults[1:]:
        problems.append(
            (
                ("categories", extra, "default"),
                f"only one category may be the default (got '{defaults[0]}' and '{extra}')",
                "remove 'default: true' from all but one category",
            )
        )
    owners: dict[str, str] = {}
    for name, category in policy.categories.items():
        for index, marker in enumerate(category.markers):
            if marker in owners:
                problems.append(
                    (
                        ("categories", name, "markers", index),
                        f"marker '{marker}' already belongs to category '{owners[marker]}'",
                        "a marker can put a test in one category only",
                    )
                )
            owners.setdefault(marker, name)
    for glob, category_name in policy.audit.junit_files.items():
        if category_name not in policy.categories:
            problems.append(
                (
                    ("audit", "junit_files", glob),
                    f"unknown category (got {category_name!r})",
                    "use one of: " + ", ".join(sorted(policy.categories)),
                )
            )
    seen: dict[str, int] = {}
    for index, pattern in enumerate(policy.banned):
        if pattern.id in seen:
            problems.append(
                (
                    ("banned", index, "id"),
                    f"duplicate rule id (got {pattern.id!r}, also at banned.{seen[pattern.id]})",
                    "rule ids are stable names; give each pattern its own",
                )
            )
        seen.setdefault(pattern.id, index)
    banned_by: dict[str, str] = {}
    for index, pattern in enumerate(policy.banned):
        for call_index, call in enumerate(pattern.calls):
            owner = banned_by.get(call)
            if owner is not None:
                problems.append(
                    (
                        ("banned", index, "calls", call_index),
                        f"{call!r} is already banned by {owner!r}",
                        "a call belongs to one pattern, or each finding is reported twice",
                    )
                )
            banned_by.setdefault(call, pattern.id)
        for class_index, name in enumerate(pattern.clients.classes if pattern.clients else ()):
            if name in pattern.calls:
                problems.append(
                    (
                        ("banned", index, "clients", "classes", class_index),
                        f"{name!r} is also one of the pattern's calls",
                        "building a client is no request: remove it from calls",
                    )
                )
            owner = banned_by.get(name)
            if owner is not None and owner != pattern.id:
                problems.append(
                    (
                        ("banned", index, "clients", "classes", class_index),
                        f"{name!r} is already banned by {owner!r}",
                        "a client class belongs to one pattern, or each finding is "
                        "reported twice",
                    )
                )
            banned_by.setdefault(name, pattern.id)
    return problems


def json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to complete and check policy.yaml."""
    schema = Policy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
