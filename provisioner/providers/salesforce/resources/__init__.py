"""Salesforce resource kinds: one small class per kind, each reading and applying itself."""
