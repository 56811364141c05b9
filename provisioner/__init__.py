"""provisioner: Salesforce and Marketo setup for event integrations, as code."""

__version__ = "0.1.0"
