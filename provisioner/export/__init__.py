"""Live setup → manifest YAML: what `provisioner export salesforce|marketo` prints."""
