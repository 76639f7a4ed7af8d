"""A local OpenID Connect issuer for the e2e tests: a throwaway CA made at test time, an HTTPS server on
127.0.0.1 with a certificate from it, serving discovery (``/.well-known/openid-configuration``) and a
JWKS (``/keys``) with one RSA and one P-256 key, and a minter of RS256/ES256 tokens with those keys.

snowgate is started with ``SNOWGATE_EXTRA_CA_FILE`` = :attr:`Issuer.ca_file` so it trusts the server.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(n: int, size: int | None = None) -> bytes:
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def _cert(subject_cn: str, key, issuer_cert=None, issuer_key=None, ca: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


class Issuer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is the issuer (``iss``)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.p256 = ec.generate_private_key(ec.SECP256R1())
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("snowgate test CA", ca_key, ca=True)
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = _cert("127.0.0.1", leaf_key, ca, ca_key)
        self.ca_file = directory / "issuer-ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self._cert_file = directory / "issuer-cert.pem"
        self._cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        self._key_file = directory / "issuer-key.pem"
        self._key_file.write_bytes(
            leaf_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.fetches: list[str] = []
        # None: serve normally; "redirect": answer /keys with a redirect elsewhere; "huge": a key set
        # past snowgate's size limit.
        self.mode: str | None = None
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def jwks(self) -> dict:
        rn = self.rsa.public_key().public_numbers()
        en = self.p256.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                 "n": b64url(_int_bytes(rn.n)), "e": b64url(_int_bytes(rn.e))},
                {"kty": "EC", "kid": "ec-1", "use": "sig", "crv": "P-256",
                 "x": b64url(_int_bytes(en.x, 32)), "y": b64url(_int_bytes(en.y, 32))},
            ]
        }

    def start(self) -> "Issuer":
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                issuer.fetches.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys" and issuer.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "https://127.0.0.1:1/keys")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                elif self.path == "/keys" and issuer.mode == "huge":
                    body = {**issuer.jwks(), "padding": "x" * 400_000}
                elif self.path == "/keys":
                    body = issuer.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._cert_file, self._key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def token(self, subject: str, alg: str = "RS256", lifetime: int = 300, **claims) -> str:
        now = int(time.time())
        body = {"iss": self.url, "sub": subject, "aud": "snowflakecomputing.com",
                "iat": now, "exp": now + lifetime, **claims}
        kid = "rsa-1" if alg == "RS256" else "ec-1"
        header = {"alg": alg, "typ": "JWT", "kid": kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
        if alg == "RS256":
            signature = self.rsa.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            der = self.p256.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            signature = _int_bytes(r, 32) + _int_bytes(s, 32)
        return f"{signing_input}.{b64url(signature)}"
