"""The CI audit: JUnit XML files -> per-test verdicts -> reports.

- `junit`: the streaming, bounded expat reader of every JUnit dialect;
- `verdicts`: `audit_files(...)` -> `AuditResult`, environment overrides;
- `report`: text, markdown, json and GitHub annotations of an `AuditResult`.
"""
