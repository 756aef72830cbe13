"""`test-policy lint`: the policy's Semgrep rules on the files the policy selects.

- `plan`: what a scan needs from the policy (globs, rules, the Semgrep config), cached by
  the policy's bytes so a commit does not pay for validating the policy again;
- `frontend`: which Semgrep command line runs the rules, and running it;
- `findings`: Semgrep's results as the engine's findings (rule, place, matched code);
- `formats`: the findings as text, JSON, SARIF 2.1.0 or GitHub workflow commands.
"""
