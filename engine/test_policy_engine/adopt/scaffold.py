"""What `test-policy init` writes: a starter policy, a pre-commit config and a CI workflow.

Pure functions: the test layout is detected from a list of directory names, and the files are
rendered from the templates shipped in `engine/templates/` (`@@name@@` placeholders, since the
workflow itself is full of `${{ }}`). The command in `test_policy_engine.cli.init` does the I/O.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from test_policy_engine import __version__

#: Where test suites live, in the order they are looked for: at the top (`testing/` is
#: pluggy's and pytest's style), and inside a src-layout package (`src/<pkg>/tests`).
TEST_ROOTS = ("tests", "test", "testing")
SRC_ROOT = re.compile(r"^src/[^/]+/(tests|test|testing)$")
#: Sub-directory names of a test root, by the category they suggest.
UNIT_DIRS = ("unit", "unit_tests", "unittests")
INTEGRATION_DIRS = ("integration", "integration_tests", "functional", "component")
E2E_DIRS = ("e2e", "end_to_end", "acceptance", "system")

#: The Semgrep release the pre-commit hook installs (the newest that installs offline here).
SEMGREP_VERSION = "1.180.0"
#: What the generated workflow installs: the release `init` itself is (its `__version__`,
#: which is also the version pyproject.toml gives the distribution), pinned.
ENGINE_REQUIREMENT = f"test-policy-engine=={__version__}"
#: The Python the generated workflow runs on.
WORKFLOW_PYTHON = "3.13"

#: Actions the workflows use: full commit SHA and its release. Taken from public workflows that
#: pin these releases; `.github/workflows/ci.yml` uses the same pins (a test keeps them equal).
ACTIONS: Mapping[str, tuple[str, str]] = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
}

#: The files `init` writes, relative to the target directory (the policy's name may vary).
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
WORKFLOW = ".github/workflows/test-policy.yml"
SEMGREPIGNORE = ".semgrepignore"

PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")


@dataclass(frozen=True)
class Layout:
    """The test directories found, by the category they suggest."""

    roots: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    integration: tuple[str, ...] = ()
    e2e: tuple[str, ...] = ()

    @property
    def flat(self) -> bool:
        """Test roots without any category sub-directory (`tests/test_*.py`)."""
        return bool(self.roots) and not (self.unit or self.integration or self.e2e)

    def describe(self) -> str:
        if not self.roots:
            return "no tests/, test/, testing/ or src/<package>/tests/ directory"
        if self.flat:
            return ", ".join(f"{root}/" for root in self.roots) + " (flat)"
        return ", ".join(f"{d}/" for d in self.unit + self.integration + self.e2e)


def detect_layout(directories: Iterable[str]) -> Layout:
    """The layout among `directories` (POSIX paths relative to the project root)."""
    present = set(directories)
    roots = tuple(root for root in TEST_ROOTS if root in present) + tuple(
        sorted(d for d in present if SRC_ROOT.match(d)))

    def found(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f"{root}/{name}" for root in roots for name in names
                     if f"{root}/{name}" in present)

    return Layout(roots=roots, unit=found(UNIT_DIRS), integration=found(INTEGRATION_DIRS),
                  e2e=found(E2E_DIRS))


@dataclass(frozen=True)
class Contents:
    """Test items beside plain Python test functions, found by `init` in the repository.

    `mypy_yml`: pytest-mypy-plugins cases (`test_*.yml` / `test-*.yaml` files in a test root);
    `doctest_paths`: globs of the files doctests are collected from, when the project runs
    doctests (`--doctest-modules` / `--doctest-glob` in its pytest or tox configuration);
    `hypothesis`: its tests use Hypothesis (which marks each `@given` test `hypothesis`);
    `install`: pip's arguments that install the project with what its tests need
    (`install_arguments`), for the generated workflow.
    """

    mypy_yml: bool = False
    doctest_paths: tuple[str, ...] = ()
    hypothesis: bool = False
    install: str = "-e ."


#: The extras (`[project.optional-dependencies]`) a project's tests are installed with,
#: by preference.
TEST_EXTRAS = ("test", "tests", "testing", "dev")
#: Requirement files of the tests, by preference (itsdangerous: requirements/tests.txt).
TEST_REQUIREMENTS = ("requirements/tests.txt", "requirements/test.txt",
                     "requirements-tests.txt", "requirements-test.txt",
                     "test-requirements.txt", "tests/requirements.txt",
                     "requirements/dev.txt", "requirements-dev.txt")


#: pip reads PEP 735 dependency groups (`--group`) from this release on.
PIP_FOR_GROUPS = "pip>=25.1"


def install_arguments(extras: Sequence[str], requirement_files: Sequence[str],
                      groups: Sequence[str] = ()) -> str:
    """pip's arguments that install the project for its tests: with its test extra, else
    its test dependency group (pluggy's `testing`, attrs' `tests`), else its tests'
    requirement file, else the project alone (`-e .`)."""
    for name in TEST_EXTRAS:
        if name in extras:
            return f'-e ".[{name}]"'
    for name in TEST_EXTRAS:
        if name in groups:
            return f"-e . --group {name}"
    for path in TEST_REQUIREMENTS:
        if path in requirement_files:
            return f"-e . -r {path}"
    return "-e ."


#: A repository with plain Python tests only.
NOTHING_ELSE = Contents()

#: pytest-mypy-plugins collects YAML files whose name starts with `test-` or `test_`.
MYPY_YML_GLOBS = ("test_*.yml", "test-*.yml", "test_*.yaml", "test-*.yaml")
#: Where doctest files are, besides the source: pytest's `--doctest-glob` default is
#: `test*.txt`; projects pass `*.md` or `*.rst` for their docs.
DOCTEST_FILE_GLOBS = ("*.md", "*.rst", "test*.txt")


def mypy_yml_file(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, glob) for glob in MYPY_YML_GLOBS)


@dataclass(frozen=True)
class _Category:
    name: str
    limit: int
    description: str
    default: bool = False
    paths: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    forbid: bool = False  # the runtime guard forbids network, processes and real sleeps
    why: tuple[str, ...] = ()  # comment lines above the category

    def render(self) -> str:
        lines = [f"  # {line}" for line in self.why]
        lines += [f"  {self.name}:", f"    limit: {self.limit}"]
        if self.default:
            lines.append("    default: true")
        if self.paths:
            lines.append(f"    paths: {_flow(self.paths)}")
        if self.markers:
            lines.append(f"    markers: [{', '.join(self.markers)}]")
        lines.append(f"    description: {json.dumps(self.description)}")
        if self.forbid:
            lines += [
                "    # Runtime guard: a test here that reaches another host, starts a process",
                "    # or really sleeps fails, naming the call. `mode: warn` to start softly.",
                "    forbid:",
                "      mode: strict",
                "      network: true",
                "      subprocess: true",
                "      sleep: true",
            ]
        return "\n".join(lines)


def _flow(items: Iterable[str]) -> str:
    """A YAML flow sequence of strings (JSON is valid YAML)."""
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _globs(directories: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{d}/**" for d in directories)


def categories(layout: Layout, contents: Contents = NOTHING_ELSE) -> list[_Category]:
    unit_paths = _globs(layout.roots) if layout.flat else _globs(layout.unit)
    found = [
        _Category("unit", 1, "fast, isolated tests (1 s)", default=True, paths=unit_paths,
                  forbid=True),
    ]
    if contents.doctest_paths:
        # After unit: a test file both match stays unit (equal limits: the first wins).
        found.append(_Category(
            "doctest", 1, "examples in docstrings and docs, run by pytest's doctest (1 s)",
            paths=contents.doctest_paths, why=(
                "Doctests: pytest collects them from the source and doc files below, which",
                "no test directory holds. Same 1 s as unit, without its runtime guard: a",
                "documented example may start a process or open a socket.")))
    found.append(
        _Category("integration", 5, "tests that cross a process or component boundary (5 s)",
                  paths=_globs(layout.integration), markers=("integration",)))
    if layout.e2e:
        found.append(_Category("e2e", 30, "end-to-end tests of the running system (30 s)",
                               paths=_globs(layout.e2e), markers=("e2e",)))
    if contents.hypothesis:
        found.append(_Category(
            "property", 10, "property-based tests run by Hypothesis (10 s)",
            markers=("hypothesis",), why=(
                "Hypothesis marks each @given test `hypothesis` and runs it on 100 examples",
                "by default (each under its 200 ms deadline): a whole test takes seconds, not",
                "one. A marker beats a path, so this holds in every test directory.")))
    if contents.mypy_yml:
        found.append(_Category(
            "typecheck", 30, "pytest-mypy-plugins cases: mypy on a snippet (30 s)",
            paths=MYPY_YML_GLOBS, why=(
                "pytest-mypy-plugins runs mypy, in a process of its own, for each case of these",
                "YAML files (a path glob matches them: its items are the .yml files): seconds",
                "per case, and more on the first, with a cold mypy cache. No runtime guard.")))
    found.append(_Category("slow", 30, "tests known to be slow (30 s)", markers=("slow",)))
    return found


def lint_globs(layout: Layout) -> tuple[str, ...]:
    return _globs(layout.roots or ("tests",)) + ("test_*.py", "*_test.py", "conftest.py")


def lint_regex(layout: Layout) -> str:
    """pre-commit's `files:` regex for the same files as `lint_globs`."""
    roots = "|".join(re.escape(root) for root in layout.roots or ("tests",))
    return rf"^(({roots})/.*|(.*/)?(test_[^/]*|[^/]*_test|conftest)\.py)$"


def template(name: str) -> str:
    templates = resources.files("test_policy_engine.adopt") / "templates"
    return (templates / name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace every `@@name@@`; a placeholder without a value is a bug, not a blank."""
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise KeyError(f"template placeholders without a value: {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def pinned(action: str) -> str:
    sha, version = ACTIONS[action]
    return f"{action}@{sha} # {version}"


def render_policy(layout: Layout, contents: Contents = NOTHING_ELSE) -> str:
    found = categories(layout, contents)
    return fill(template("policy.yaml.tmpl"), {
        "layout": layout.describe(),
        "categories": "\n".join(c.render() for c in found),
        "lint_paths": _flow(lint_globs(layout)),
        "marked": ", ".join(marked(found)),
    })


def marked(found: Iterable[_Category]) -> list[str]:
    """The decorators of tests the runtime guard lets do everything: the markers of the
    categories without `forbid:` (`pytest.mark.integration`, `pytest.mark.slow`, ...). The
    rules clear the same tests, so a test moved out of unit by its marker, as the guard's
    hint says, passes both."""
    return [f"pytest.mark.{m}" for c in found if not c.forbid for m in c.markers]


def render_hooks_entry(layout: Layout, policy_name: str) -> str:
    """The engine's `repos:` item (`- repo: local`, at column 0, after a comment line)."""
    return fill(template("pre-commit-entry.yaml.tmpl"), {
        "policy": policy_name,
        "policy_regex": re.escape(policy_name),
        "lint_regex": json.dumps(lint_regex(layout)),
        "semgrep_version": SEMGREP_VERSION,
    })


def render_pre_commit(layout: Layout, policy_name: str) -> str:
    """A whole pre-commit config holding the engine's hooks only (for a repository without one)."""
    entry = render_hooks_entry(layout, policy_name).split("\n", 1)[1]  # the "added by" line
    indented = "".join(f"  {line}" if line.strip() else line
                       for line in entry.splitlines(keepends=True))
    return fill(template("pre-commit-config.yaml.tmpl"), {"entry": indented})


def render_semgrepignore() -> str:
    return template("semgrepignore.tmpl")


def ignores_tests(semgrepignore: str, layout: Layout) -> list[str]:
    """The lines of a `.semgrepignore` that keep Semgrep out of the test roots."""
    roots = {root for root in layout.roots or ("tests",)}
    found = []
    for line in semgrepignore.splitlines():
        entry = line.strip()
        if not entry or entry.startswith(("#", "!", ":")):
            continue
        bare = entry.strip("/").removesuffix("/**").removesuffix("/*").strip("/")
        if bare in roots or bare in ("tests", "test", "testing"):
            found.append(entry)
    return found


def render_workflow(layout: Layout, policy_name: str, contents: Contents = NOTHING_ELSE
                    ) -> str:
    return fill(template("test-policy.yml.tmpl"), {
        "checkout": pinned("actions/checkout"),
        "setup_python": pinned("actions/setup-python"),
        "upload_artifact": pinned("actions/upload-artifact"),
        "download_artifact": pinned("actions/download-artifact"),
        "python": WORKFLOW_PYTHON,
        "engine": ENGINE_REQUIREMENT,
        "policy": policy_name,
        "test_paths": "".join(f"{root} " for root in layout.roots),
        "install": contents.install,
        "pip_upgrade": (f'python -m pip install --upgrade "{PIP_FOR_GROUPS}" && '
                        if "--group" in contents.install else ""),
    })


def render_all(layout: Layout, policy_name: str,
               contents: Contents = NOTHING_ELSE) -> dict[str, str]:
    """Relative path -> text of every file `init` writes into a repository without them
    (rules/ apart)."""
    return {
        policy_name: render_policy(layout, contents),
        PRE_COMMIT_CONFIG: render_pre_commit(layout, policy_name),
        WORKFLOW: render_workflow(layout, policy_name, contents),
        SEMGREPIGNORE: render_semgrepignore(),
    }
