"""The commands of the `provisioner` command line, one module per command (registered in cli.py)."""
