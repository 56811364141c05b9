"""The emulated Salesforce org: OAuth/SOAP login, Metadata API (SOAP), REST data API and Bulk API 2.0.

Start it through :class:`provisioner.sandbox.runtime.Sandbox`; :class:`.app.SalesforceApp` is the
:class:`~provisioner.sandbox.httpserver.SandboxApp` that routes requests to the modules here.
"""
