"""The policy core: `policy.yaml` -> a validated `Policy` and the pure functions every
enforcement point shares. Everything else depends on this concern; it depends on nothing
of theirs.

What the other concerns may use:
- `model`: the `Policy` model and its parts (pydantic), `json_schema()`;
- `loader`: `load_policy(path)` / `parse_policy(text, name)`, located errors;
- `errors`: `UserError` and `Problem`, the one way a user's mistake is reported;
- `globs`: the root-anchored glob language (`first_match`, `glob_problem`);
- `categories`: `Classifier`, which category and limit a test gets, and why;
- `timeouts`: the pytest-timeout marker and the JUnit property names of a resolution;
- `discovery`: where the policy file of a run is (no YAML, no pydantic: cheap to import).

Importing this package imports none of them, so the pytest plugin stays inert and cheap
where no policy is found.
"""
