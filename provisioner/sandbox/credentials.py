"""Demo credentials of the emulated Salesforce org, and the RSA key pair for its JWT bearer flow.

These are throwaway secrets for a local sandbox; they still never get printed or logged.
The JWT key pair lives in the sandbox's state directory so an env file can point
``SF_PRIVATE_KEY_FILE`` at it, while the org trusts the matching certificate.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class SalesforceCredentials:
    """What the sandbox org accepts: a user, and one connected app (consumer key == client id)."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    refresh_token: str = ""  # what a refresh_token grant (an SFDX auth URL) presents

    @property
    def consumer_key(self) -> str:
        """The JWT ``iss``: a connected app's consumer key is its OAuth client id."""
        return self.client_id

    def __repr__(self) -> str:  # never show secrets
        return f"SalesforceCredentials(username={self.username!r}, client_id={self.client_id!r}, ...)"


def demo_credentials() -> SalesforceCredentials:
    """The fixed demo credentials of every sandbox org."""
    return SalesforceCredentials(
        username="integration@provisioner.sandbox",
        password="sandbox-Passw0rd",
        security_token="SBXSECURITYTOKEN0001",
        client_id="3MVG9provisioner.sandbox.connected.app.consumer.key",
        client_secret="sandbox-client-secret-0001",
        refresh_token="5Aep861sandbox.refresh.token.0001",
    )


@dataclass(frozen=True)
class JWTKeyPair:
    """Paths of the private key (for the client) and the self-signed certificate (for the org)."""

    private_key: Path
    certificate: Path


@functools.lru_cache(maxsize=1)
def _process_key() -> rsa.RSAPrivateKey:
    """One RSA key per process, reused by every new sandbox folder (each still gets its own certificate):
    generating a 2048-bit key costs 0.1–0.5 s of CPU, and a test run starts hundreds of throwaway sandboxes."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwt_key_pair(directory: Path) -> JWTKeyPair:
    """Create (once) and return an RSA key + self-signed certificate for the JWT bearer flow."""
    directory.mkdir(parents=True, exist_ok=True)
    pair = JWTKeyPair(directory / "jwt-private-key.pem", directory / "jwt-cert.pem")
    if pair.private_key.exists() and pair.certificate.exists():
        return pair
    key = _process_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provisioner sandbox connected app")])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=825))
        .sign(key, hashes.SHA256())
    )
    pair.private_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    pair.private_key.chmod(0o600)
    pair.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pair
