"""The pytest plugin (entry point `test_policy` -> `hooks`): the policy applied to a run.

- `hooks`: the thin pytest hooks; inert where no policy is found;
- `run`: the state of an active run (limits, markers, groups, parallel choice);
- `cache`: the validated copy of the policy kept in pytest's cache;
- `parallel`: whether and how pytest-xdist runs the suite;
- `summary`: the per-category summary at the end of the run.
"""
