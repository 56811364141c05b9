"""Demo credentials of the emulated Marketo instance (not secrets: they only open the sandbox)."""

DEMO_CLIENT_ID = "provisioner-sandbox-client"
DEMO_CLIENT_SECRET = "provisioner-sandbox-secret"
#: The API-only user the token belongs to (Marketo puts it in the token response's ``scope``).
DEMO_API_USER = "provisioner-api@sandbox.invalid"
