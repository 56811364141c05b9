"""The published JSON Schemas (schemas/ at the repository root links here)."""
