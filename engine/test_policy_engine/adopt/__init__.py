"""Adopting the engine in a repository (`test-policy init`).

- `scaffold`: the test layout found in a repository and the files rendered for it from
  `templates/`.
- `merge`: the engine's hooks added, as text, to a `.pre-commit-config.yaml` that exists.
- `pytest_config`: the project's own pytest timeout and xdist settings, and which one holds.
"""
