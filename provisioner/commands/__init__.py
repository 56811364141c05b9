"""The CLI's commands, one module per command; :mod:`provisioner.cli` is only the group that registers them."""
