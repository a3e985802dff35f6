"""TLS to PostgreSQL (crm_core.db.tls): the shipped RDS bundle, the SSL context of each sslmode, the default."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from crm_core.db.engine import _engine_arguments
from crm_core.db.tls import RDS_CA_BUNDLE, ssl_context, tls_connect_arguments
from crm_core.errors import InternalError
from crm_core.settings import Settings, reset_settings

URL = "postgresql+pg8000://crm_actions_login:pw@db.abc123.us-east-1.rds.amazonaws.com:5432/crm"


def common_names(context: ssl.SSLContext) -> set[str]:
    return {
        value for cert in context.get_ca_certs() for rdn in cert["subject"] for key, value in rdn if key == "commonName"
    }


def test_the_rds_bundle_ships_beside_the_module_and_parses() -> None:
    assert RDS_CA_BUNDLE.is_file()
    context = ssl.create_default_context(cafile=str(RDS_CA_BUNDLE))
    stats = context.cert_store_stats()
    assert stats["x509_ca"] == stats["x509"] == RDS_CA_BUNDLE.read_text().count("BEGIN CERTIFICATE") >= 100
    names = common_names(context)
    for expected in (
        "Amazon RDS us-east-1 Root CA RSA2048 G1",
        "Amazon RDS eu-west-1 Root CA ECC384 G1",
        "Amazon RDS us-west-2 Root CA RSA4096 G1",
        "Amazon Root CA 1",  # RDS Proxy endpoints
    ):
        assert expected in names


def test_verify_full_checks_the_certificate_against_the_rds_authorities_alone_and_the_host_name() -> None:
    context = ssl_context("verify-full")
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    # Only the bundle: no system authority is trusted.
    assert len(context.get_ca_certs()) == RDS_CA_BUNDLE.read_text().count("BEGIN CERTIFICATE")


def test_verify_ca_checks_the_certificate_but_not_the_host_name() -> None:
    context = ssl_context("verify-ca")
    assert context is not None
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, False)
    assert "Amazon RDS us-east-1 Root CA RSA2048 G1" in common_names(context)


def test_require_encrypts_without_verifying_and_disable_does_not_encrypt() -> None:
    context = ssl_context("require")
    assert context is not None
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)
    assert ssl_context("disable") is None


def test_an_unknown_mode_is_a_configuration_error() -> None:
    with pytest.raises(InternalError) as caught:
        ssl_context("prefer")
    assert caught.value.details["setting"] == "DB_SSLMODE"


def test_the_default_mode_is_verify_full() -> None:
    assert Settings.from_environment({}).db_sslmode == "verify-full"
    target, arguments = tls_connect_arguments(make_url(URL), "verify-full")
    assert target.query == {}
    assert arguments["ssl_context"].check_hostname is True


def test_the_urls_sslmode_wins_and_is_removed_from_what_pg8000_sees() -> None:
    target, arguments = tls_connect_arguments(make_url(f"{URL}?sslmode=require"), "verify-full")
    assert "sslmode" not in target.query
    assert arguments["ssl_context"].verify_mode == ssl.CERT_NONE
    target, arguments = tls_connect_arguments(make_url(f"{URL}?sslmode=disable"), "verify-full")
    assert (target.query, arguments) == ({}, {"ssl_context": False})  # pg8000 tries TLS when it is None


def test_a_unix_socket_is_never_encrypted() -> None:
    url = make_url("postgresql+pg8000://crm@/crm?unix_sock=/run/postgresql/.s.PGSQL.5432")
    target, arguments = tls_connect_arguments(url, "verify-full")
    assert arguments == {"ssl_context": False}
    assert target.query == {"unix_sock": "/run/postgresql/.s.PGSQL.5432"}


def test_the_engine_follows_db_sslmode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_SSLMODE", raising=False)
    reset_settings()
    target, arguments = _engine_arguments(URL)
    assert target == URL
    assert arguments["ssl_context"].check_hostname is True

    monkeypatch.setenv("DB_SSLMODE", "require")
    reset_settings()
    assert _engine_arguments(URL)[1]["ssl_context"].verify_mode == ssl.CERT_NONE

    monkeypatch.setenv("DB_SSLMODE", "disable")
    reset_settings()
    assert _engine_arguments(URL) == (URL, {"ssl_context": False})
    reset_settings()


# A real TLS handshake, in memory (no socket): a server whose certificate a private authority signed.


def _authority_and_server(tmp_path: Path, host: str) -> tuple[Path, ssl.SSLContext]:
    """A CA file and a server context whose certificate (for ``host``) that CA signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Root CA"))
        .issuer_name(name("Test Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(name(host))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, chain_file, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain_file, key_file)
    return ca_file, server_context


def _handshake(client: ssl.SSLContext, server: ssl.SSLContext, host: str) -> None:
    """Run a TLS handshake between the two contexts through memory buffers; raises what the client raises."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(to_client, to_server, server_hostname=host)
    server_side = server.wrap_bio(to_server, to_client, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for side, end in (("client", client_side), ("server", server_side)):
            if done[side]:
                continue
            try:
                end.do_handshake()
                done[side] = True
            except ssl.SSLWantReadError:
                pass
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


def test_verify_full_accepts_a_certificate_of_its_authority_for_the_right_host_only(tmp_path: Path) -> None:
    host = "db.cluster-abc.us-east-1.rds.amazonaws.com"
    ca_file, server = _authority_and_server(tmp_path, host)
    verify_full = ssl_context("verify-full", ca_file=ca_file)
    assert verify_full is not None

    _handshake(verify_full, server, host)
    with pytest.raises(ssl.SSLCertVerificationError, match=r"match|mismatch"):
        _handshake(verify_full, server, "impostor.example.com")
    verify_ca = ssl_context("verify-ca", ca_file=ca_file)
    assert verify_ca is not None
    _handshake(verify_ca, server, "impostor.example.com")


def test_the_rds_authorities_refuse_a_certificate_they_did_not_sign(tmp_path: Path) -> None:
    host = "db.cluster-abc.us-east-1.rds.amazonaws.com"
    _, server = _authority_and_server(tmp_path, host)
    for mode in ("verify-full", "verify-ca"):
        context = ssl_context(mode)
        assert context is not None
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
            _handshake(context, server, host)
    required = ssl_context("require")  # encrypted, but it takes any certificate: only when asked
    assert required is not None
    _handshake(required, server, host)
