"""test-policy-engine: one policy.yaml drives pytest time limits, Semgrep rules and the CI audit."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("test-policy-engine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
