"""The `test-policy` command: one module per subcommand under test_policy_engine.cli."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from test_policy_engine import __version__
from test_policy_engine.policy.errors import UserError

#: Subcommands, in the order `--help` lists them; each is test_policy_engine.cli.<name>.
COMMANDS = ("check", "schema", "explain", "generate", "lint", "audit", "init", "baseline")


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"test_policy_engine.cli.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` just that subcommand's (the others' modules,
    some of which import pytest or pydantic, are then not imported: `lint` in a pre-commit
    hook starts in a tenth of the time)."""
    parser = argparse.ArgumentParser(
        prog="test-policy",
        description="One policy.yaml for test time limits, slow-test patterns and the CI audit.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--policy",
        default="policy.yaml",
        metavar="PATH",
        help="the policy file (default: policy.yaml in the current directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (only,) if only in COMMANDS else COMMANDS:
        module = _load(name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP,
                                 parents=[common])
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command's exit code: 0 done, 1 a finding or failure, 2 the user's mistake,
    130 interrupted (Ctrl-C at any point, imports included, ends quietly)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None) -> int:
    if sys.stdout is None:  # started with stdout closed (`>&-`): Python leaves None
        if sys.stderr is not None:
            print("test-policy: standard output is closed; hint: redirect it to a file "
                  "or /dev/null", file=sys.stderr)
        return 2
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments[0] if arguments else None)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code: int = args.run(args)
    except UserError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `test-policy ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code
