"""providers/marketo."""
