"""test-policy-engine: one policy.yaml drives pytest time limits, Semgrep rules and the CI audit."""

__version__ = "0.1.0"
