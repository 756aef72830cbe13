"""Semgrep rules derived from the policy's banned patterns.

- `semgrep`: `render_rules(policy)` (rule files and their `semgrep --test` samples),
  `combined_rules(policy)` (one config for `lint`) and the generated-file header `MARK`.
"""
