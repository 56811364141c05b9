"""An emulated Marketo instance (identity, lead database, asset and bulk APIs) for tests and the demo.

Start one with ``SandboxServer(MarketoApp(MarketoConfig()), generate_tls(dir)).start()``; get a
token from ``/identity/oauth/token`` with :mod:`.credentials`' demo client id and secret.

- :mod:`.app`: ``MarketoApp`` (auth, limits, envelope, ``snapshot``/``restore``) and ``MarketoConfig``.
- :mod:`.config`: limits and knobs, ``load_channels(FILE)`` for ``--marketo-channels``.
- :mod:`.routes`: the route table (every served operation, as spelled in Adobe's OpenAPI documents).
- :mod:`.contract`: ``find_operation``, ``check_request``, ``check_prepared``, ``response_hook``,
  ``check_response``: check a client's requests and the sandbox's replies against those documents.
- Handlers: :mod:`.assets`, :mod:`.customobjects`, :mod:`.activities`, :mod:`.leads`, :mod:`.bulk`.
"""
