"""RSA key pairs for key-pair login tests, in the forms Snowflake's SQL and drivers take them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def spki_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_b64(key: rsa.RSAPrivateKey) -> str:
    """The public key as Snowflake's RSA_PUBLIC_KEY takes it: base64 DER, no armour."""
    return base64.b64encode(spki_der(key)).decode()


def fingerprint(key: rsa.RSAPrivateKey) -> str:
    """Snowflake's RSA_PUBLIC_KEY_FP: SHA256: + base64 of the SHA-256 of the DER public key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(spki_der(key)).digest()).decode()


def pkcs8_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_b64(key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(pkcs8_der(key)).decode()
