"""The incident's own language: alerts, incidents, decisions, diagnoses, policy.

Plain data (pydantic models and string enums) with no I/O; workflows import it through
`workflow.unsafe.imports_passed_through()`."""
