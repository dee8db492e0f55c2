"""The model client trusts what the SDK would trust, with its TLS context built once per process.

An HTTPS stand-in for the Messages API with a certificate of its own: a client trusts it only
when SSL_CERT_FILE names that certificate, as the SDK's default context does, however many
clients the process made before, with the variable set or not.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import anthropic
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from tests.fakes.json_endpoint import JsonEndpoint
from worker.agent.client import make_client
from worker.run_config import ModelEndpoint

REPLY = {
    "id": "msg_tls",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5-5",
    "content": [{"type": "text", "text": "over TLS"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Answer(JsonEndpoint):
    def do_POST(self) -> None:
        self.read_json()
        self.reply_json(REPLY)


@pytest.fixture
def https_model(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The stand-in's base URL and its certificate."""
    cert, key = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def ask(endpoint: ModelEndpoint) -> str:
    """One Messages call with a client from `make_client`, without retries; the reply's text."""
    client = make_client(endpoint).with_options(max_retries=0)
    reply = client.messages.create(
        model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": "Hello?"}]
    )
    return "".join(block.text for block in reply.content if block.type == "text")


def test_the_model_is_trusted_exactly_when_its_certificate_is(
    https_model: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https_model
    endpoint = ModelEndpoint(api_key=SecretStr("k"), base_url=url)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    # GIVEN no CA bundle naming the stand-in's certificate WHEN a client calls it THEN TLS refuses
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(anthropic.APIConnectionError):
        ask(endpoint)
    # WHEN SSL_CERT_FILE names it THEN the next client in the same process trusts it
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert ask(endpoint) == "over TLS"
    assert ask(endpoint) == "over TLS"
    # AND once the variable is gone, a new client trusts it no more
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(anthropic.APIConnectionError):
        ask(endpoint)
