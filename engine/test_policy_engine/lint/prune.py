"""Rules as `lint` keeps them: formulas that only a file spelling certain names can match,
and leaving out those that no file of a run can.

Semgrep matches every leaf pattern of a rule on every file its prefilter keeps, and a
clearing form that cannot match costs as much as one that matches: on the 80-file 2 MB
benchmark suite, which never spells `autouse`, `setUp`, a marker or `allow_unregistered`,
the sleep and `subprocess.run` rules took 2.15 s through `osemgrep --x-parmap -j2`, and
1.43 s without the forms those names need (medians of 5, idle), with the same findings.

The generator (`rules.semgrep`) wraps such a formula as `{TAG: {"needs": [[name, ...],
...], "formula": F}}`: F can match only in a file that spells every name of one of the
alternatives (a fixture parameter needs the fixture's name, an autouse fixture `autouse`,
a setup method its name, a decorator each of its dotted names). `prune` keeps F where a
file of the run meets its needs and leaves it out where none does, with what that empties:
a `pattern-either` with no branch left matches nothing, a `patterns` with a positive term
that matches nothing matches nothing, and a `pattern-not`/`pattern-not-inside` of nothing
excludes nothing, so it goes. What is left flags exactly what the whole rule flags on those
files. Pure functions of JSON-like data; no imports beyond the standard library (the
pre-commit hook must not import the policy model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TAG = "x-test-policy-needs"
NEGATIVE = ("pattern-not", "pattern-not-inside")

#: Alternatives of names a file must all spell: (("pytest", "mark", "slow"), ...).
Needs = tuple[tuple[str, ...], ...]


def tag(formula: Any, needs: Needs) -> dict[str, Any]:
    """`formula`, to be matched only where a file meets `needs`."""
    return {TAG: {"needs": [list(names) for names in needs], "formula": formula}}


def needs_of(raw: Any) -> Needs:
    return tuple(tuple(names) for names in raw)


def tags(formula: Any) -> set[Needs]:
    """The needs of every wrapped formula in `formula`."""
    found: set[Needs] = set()
    if isinstance(formula, dict):
        if TAG in formula:
            found.add(needs_of(formula[TAG]["needs"]))
            found |= tags(formula[TAG]["formula"])
        else:
            for value in formula.values():
                found |= tags(value)
    elif isinstance(formula, list):
        for item in formula:
            found |= tags(item)
    return found


def prune(formula: Any, met: Callable[[Needs], bool]) -> Any:
    """`formula` with the wrapped formulas whose needs are `met` unwrapped and the others
    left out; None when what is left can match nothing."""
    if not isinstance(formula, dict):
        return formula  # a pattern's text
    if TAG in formula:
        inner = formula[TAG]
        return prune(inner["formula"], met) if met(needs_of(inner["needs"])) else None
    if "pattern-either" in formula:
        branches = [b for b in (prune(item, met) for item in formula["pattern-either"])
                    if b is not None]
        return {**formula, "pattern-either": branches} if branches else None
    if "patterns" in formula:
        terms = []
        for term in formula["patterns"]:
            key = next(iter(term)) if isinstance(term, dict) and len(term) == 1 else None
            if key in NEGATIVE:
                excluded = prune(term[key], met)
                if excluded is not None:
                    terms.append({key: excluded})
                continue
            kept = prune(term, met)
            if kept is None:
                return None
            terms.append(kept)
        return {**formula, "patterns": terms}
    if "pattern-inside" in formula and len(formula) == 1:
        inside = prune(formula["pattern-inside"], met)
        return None if inside is None else {"pattern-inside": inside}
    return formula  # `pattern`, `metavariable-*`: nothing wrapped below


def strip(formula: Any) -> Any:
    """`formula` with every wrapped formula kept: the whole rule, as Semgrep reads it."""
    return prune(formula, lambda needs: True)
