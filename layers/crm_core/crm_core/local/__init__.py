"""Development helpers: local AWS resources for the CLI, the demo and the tests (never used in Lambda)."""
