"""Resource kinds of the Marketo provider: channel (verified only), program, custom object, custom activity."""
