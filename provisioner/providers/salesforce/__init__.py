"""providers/salesforce."""
