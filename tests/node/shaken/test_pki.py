"""Test PKI generation and chain verification (generated PKI and the Asterisk testsuite PKI)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from node.shaken import OID_TNAUTHLIST, ShakenError, TNAuthList, generate_test_pki, verify_chain
from node.shaken.errors import BAD_CERTIFICATE, BAD_CRL, REVOKED
from node.shaken.pki import check_crl, issue_crl

CERTS = Path(__file__).resolve().parents[2] / "vectors" / "shaken" / "certs"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS / name).read_bytes())


def refused(
    leaf: x509.Certificate, inter: list[x509.Certificate], roots: list[x509.Certificate], now: datetime
) -> None:
    with pytest.raises(ShakenError) as info:
        verify_chain(leaf, inter, roots, now=now)
    assert info.value.code == BAD_CERTIFICATE


def test_asterisk_chain_ok() -> None:
    ca = cert("asterisk_ts_astdev-ca.crt")
    for name in ("asterisk_ts_SPAST1-cert.pem", "asterisk_ts_SPAST2-cert.pem"):
        verify_chain(cert(name), [], [ca], now=datetime(2027, 1, 1, tzinfo=UTC))


def test_asterisk_expired_ca_refused() -> None:
    # The leaf is within its own validity on 2025-01-01; its issuer expired on 2024-02-08.
    leaf = cert("asterisk_ts_SPAST1-caexp-cert.pem")
    assert leaf.not_valid_before_utc < datetime(2025, 1, 1, tzinfo=UTC) < leaf.not_valid_after_utc
    refused(leaf, [], [cert("asterisk_ts_astdev-ca-expired.crt")], datetime(2025, 1, 1, tzinfo=UTC))


def test_asterisk_wrong_root_and_before_validity() -> None:
    leaf = cert("asterisk_ts_SPAST1-cert.pem")
    refused(leaf, [], [cert("asterisk_ts_astdev-ca-expired.crt")], datetime(2027, 1, 1, tzinfo=UTC))
    refused(leaf, [], [cert("asterisk_ts_astdev-ca.crt")], datetime(2025, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


def test_generated_pki_shape_and_chain(pki_dir: Path) -> None:
    pki = generate_test_pki(spc="123A", out_dir=pki_dir, now=NOW)
    verify_chain(pki.sp_cert, [pki.ca_cert], [pki.root_cert], now=NOW)
    verify_chain(pki.sp_cert, [pki.ca_cert], [pki.root_cert], now=NOW + timedelta(days=300))
    assert TNAuthList.from_certificate(pki.sp_cert).spcs == ("123A",)
    ext = pki.sp_cert.extensions.get_extension_for_oid(OID_TNAUTHLIST)
    assert not ext.critical and ext.value.public_bytes().hex() == "3008a006160431323341"
    cn = pki.sp_cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == "SHAKEN 123A"
    assert pki.sp_cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert not pki.sp_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_bc = pki.ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert ca_bc.ca and ca_bc.path_length == 0
    assert pki.root_cert.subject == pki.root_cert.issuer
    for c in (pki.root_cert, pki.ca_cert, pki.sp_cert):
        pub = c.public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"
    assert pki.crl.issuer == pki.ca_cert.subject and pki.crl.is_signature_valid(pki.ca_key.public_key())
    for name, data in pki.pems.items():
        path = pki_dir / name
        assert path.read_bytes() == data
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o600 if name.endswith("-key.pem") else 0o644)


def test_generated_wrong_root_refused() -> None:
    a = generate_test_pki(spc="AAAA", now=NOW)
    b = generate_test_pki(spc="BBBB", now=NOW)
    refused(a.sp_cert, [a.ca_cert], [b.root_cert], NOW)
    refused(a.sp_cert, [b.ca_cert], [a.root_cert], NOW)
    refused(a.sp_cert, [], [a.root_cert], NOW)  # missing intermediate


def test_generated_expired_leaf_refused() -> None:
    pki = generate_test_pki(spc="1234", now=NOW)
    refused(pki.sp_cert, [pki.ca_cert], [pki.root_cert], NOW + timedelta(days=366))
    refused(pki.sp_cert, [pki.ca_cert], [pki.root_cert], NOW - timedelta(days=1))


def test_leaf_cannot_issue() -> None:
    """A certificate signed by the SP key must not chain (SP cert is not a CA; STI-CA has pathlen 0)."""
    pki = generate_test_pki(spc="1234", now=NOW)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "rogue")])
    rogue = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.sp_cert.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(hours=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(pki.sp_key, hashes.SHA256())
    )
    refused(rogue, [pki.sp_cert, pki.ca_cert], [pki.root_cert], NOW)


def test_naive_now_rejected() -> None:
    with pytest.raises(ValueError):
        generate_test_pki(spc="1234", now=datetime(2026, 1, 1))


# -- CRLs -------------------------------------------------------------------------------------------------------


def crl_code(leaf: x509.Certificate, issuer: x509.Certificate, crls: list[x509.CertificateRevocationList],
             now: datetime) -> str:
    with pytest.raises(ShakenError) as info:
        check_crl(leaf, issuer, crls, now=now)
    return info.value.code


def test_crl_revokes_and_clears() -> None:
    pki = generate_test_pki(spc="1234", now=NOW)
    check_crl(pki.sp_cert, pki.ca_cert, [pki.crl], now=NOW)  # empty CRL
    check_crl(pki.sp_cert, pki.ca_cert, [], now=NOW)  # nothing configured: nothing to check
    revoking = issue_crl(pki.ca_cert, pki.ca_key, [12345, pki.sp_cert.serial_number], now=NOW)
    assert crl_code(pki.sp_cert, pki.ca_cert, [pki.crl, revoking], NOW) == REVOKED
    other = generate_test_pki(spc="9999", now=NOW)
    check_crl(pki.sp_cert, pki.ca_cert, [other.crl], now=NOW)  # another issuer's CRL is ignored
    revoked = generate_test_pki(spc="4321", now=NOW, revoked_sp=True)
    assert revoked.crl.get_revoked_certificate_by_serial_number(revoked.sp_cert.serial_number) is not None
    assert crl_code(revoked.sp_cert, revoked.ca_cert, [revoked.crl], NOW) == REVOKED


def test_crl_window_and_signature() -> None:
    pki = generate_test_pki(spc="1234", now=NOW)
    assert crl_code(pki.sp_cert, pki.ca_cert, [pki.crl], NOW + timedelta(days=8)) == BAD_CRL  # after nextUpdate
    assert crl_code(pki.sp_cert, pki.ca_cert, [pki.crl], NOW - timedelta(hours=2)) == BAD_CRL  # before thisUpdate
    check_crl(pki.sp_cert, pki.ca_cert, [pki.crl], now=NOW + timedelta(days=7))  # nextUpdate itself is fine
    forged_key = ec.generate_private_key(ec.SECP256R1())
    forged = issue_crl(pki.ca_cert, forged_key, [], now=NOW)  # issuer's name, someone else's key
    assert crl_code(pki.sp_cert, pki.ca_cert, [forged], NOW) == BAD_CRL
    assert crl_code(pki.sp_cert, pki.root_cert, [pki.crl], NOW) == BAD_CERTIFICATE  # not the issuer
