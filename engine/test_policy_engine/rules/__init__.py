"""Semgrep rules derived from the policy's banned patterns.

- `semgrep`: `render_rules(policy)` (rule files and their `semgrep --test` samples),
  `lint_rules(pattern, lint)` (the rules as `lint` runs them, their forms tagged with what
  they need: `lint.plan` makes one config of them) and the generated-file header `MARK`.
"""
