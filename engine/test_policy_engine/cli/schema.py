"""`test-policy schema`: the JSON Schema of policy.yaml, for editors."""

from __future__ import annotations

import argparse
import json
import sys

from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy.model import json_schema

HELP = "print (or write) the JSON Schema that editors use to check policy.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE")


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def run(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output:
        write_atomic(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
