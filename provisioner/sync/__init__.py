"""Sync: push event-platform exports (registrations, engagement, polls, replays) into Salesforce and Marketo.

Entry point: :func:`provisioner.sync.engine.run_sync`; the CLI command is in :mod:`provisioner.commands.sync`.
"""
