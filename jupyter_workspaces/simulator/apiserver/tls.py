"""A self-signed certificate for HTTPS on 127.0.0.1: kubectl sends tokens only over TLS."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Certificate:
    """A certificate (PEM) for 127.0.0.1 and localhost, with its key's file."""

    pem: bytes
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def self_signed(directory: Path | None = None) -> Certificate:
    """Make a fresh self-signed certificate with `openssl`; its key never leaves `directory`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(
            "HTTPS needs the `openssl` command to make a certificate: install openssl, or start "
            "the API server with tls=False (plain HTTP; kubectl then sends no token)"
        )
    folder = directory or Path(tempfile.mkdtemp(prefix="apiserver-tls-"))
    cert_file, key_file = folder / "apiserver.crt", folder / "apiserver.key"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key_file), "-out", str(cert_file),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key_file.chmod(0o600)
    log.info("apiserver: self-signed certificate made in %s", folder)
    return Certificate(cert_file.read_bytes(), cert_file, key_file)
