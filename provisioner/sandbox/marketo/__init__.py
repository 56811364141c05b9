"""An emulated Marketo instance (identity, lead database, asset and bulk APIs) for tests and the demo.

Start it with ``SandboxServer(MarketoApp(MarketoConfig()), generate_tls(dir))``; its routes,
parameters and response shapes follow Adobe's OpenAPI documents (see :mod:`.contract`).
"""
