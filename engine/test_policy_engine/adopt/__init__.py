"""Adopting the engine in a repository (`test-policy init`).

- `scaffold`: the test layout found in a repository and the files rendered for it from
  `templates/`.
"""
