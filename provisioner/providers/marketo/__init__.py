"""The Marketo provider: one rate-limited, retrying REST client and the resource kinds built on it.

``provider.PROVIDER`` is what the CLI uses; :class:`client.MarketoClient` is reused by the sync module.
"""
