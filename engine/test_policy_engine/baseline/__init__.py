"""The baseline (the ratchet): a repository's known debt, recorded in one committed file.

- `entries`: the file's line format (`slow <node id> <category> <seconds>`), read and written
  sorted, one entry per line, so two branches' additions merge (`merge=union`).
- `ratchet`: an audit's failures against the baseline: known debt, new, much slower, fixed,
  expired.
"""

#: The baseline's file name beside the policy (here, so that `lint` finds out whether there
#: is one without importing the modules that read it).
DEFAULT_NAME = ".test-policy-baseline"
