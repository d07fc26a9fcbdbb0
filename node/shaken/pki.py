"""A throw-away SHAKEN test PKI (STI-PA-like root → STI-CA → SP certificate) and a chain check.

Everything here is for tests and local demos: keys are unencrypted P-256 (ES256) keys. The chain check uses
``cryptography.x509.verification.PolicyBuilder`` with a relaxed extension policy: the web-PKI defaults would
demand a subjectAltName on the leaf, which SHAKEN SP certificates do not carry. What is still enforced by
cryptography's path builder: names chain, signatures verify with the issuer key, every certificate is valid
at ``now``, and issuers are CAs (we additionally require ``basicConstraints cA=TRUE`` on every CA certificate;
pathLenConstraint is honoured by the builder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from .errors import BAD_CERTIFICATE, ShakenError
from .tnauthlist import SPC, TNAuthList

__all__ = ["TestPKI", "generate_test_pki", "verify_chain", "SHAKEN_CP_OID"]

SHAKEN_CP_OID = x509.ObjectIdentifier("2.16.840.1.114569.1.1.1")  # SHAKEN Certificate Policy (ATIS-1000080)


@dataclass(frozen=True)
class TestPKI:
    """The generated certificates and keys; :attr:`pems` gives their PEM bytes by file name."""

    __test__ = False  # not a pytest test class

    root_cert: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    sp_cert: x509.Certificate
    sp_key: ec.EllipticCurvePrivateKey
    crl: x509.CertificateRevocationList

    @property
    def pems(self) -> dict[str, bytes]:
        def key(k: ec.EllipticCurvePrivateKey) -> bytes:
            return k.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )

        pem = serialization.Encoding.PEM
        return {
            "root.pem": self.root_cert.public_bytes(pem),
            "ca.pem": self.ca_cert.public_bytes(pem),
            "sp.pem": self.sp_cert.public_bytes(pem),
            "ca.crl.pem": self.crl.public_bytes(pem),
            "root-key.pem": key(self.root_key),
            "ca-key.pem": key(self.ca_key),
            "sp-key.pem": key(self.sp_key),
        }


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    path_length: int | None = None,
    extra: tuple[x509.ExtensionType, ...] = (),
) -> x509.Certificate:
    pub = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage), critical=True
    )
    for ext in extra:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(out_dir: Path, pems: dict[str, bytes]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in pems.items():
        path = out_dir / name
        mode = 0o600 if name.endswith("-key.pem") else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, mode)


def generate_test_pki(*, spc: str, out_dir: Path | None = None, now: datetime) -> TestPKI:
    """Root (10 y) → STI-CA (5 y, pathlen 0) → SP cert "SHAKEN <spc>" (1 y) with TNAuthList ``[0] spc``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tnauth = TNAuthList((SPC(spc),))
    root_key, ca_key, sp_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name, ca_name = _name("Test STI-PA Root"), _name("Test STI-CA")
    start = now - timedelta(hours=1)
    root = _cert(
        root_name, root_key, root_name, root_key, not_before=start, not_after=now + timedelta(days=3650), ca=True
    )
    ca = _cert(
        ca_name,
        ca_key,
        root_name,
        root_key,
        not_before=start,
        not_after=now + timedelta(days=1825),
        ca=True,
        path_length=0,
    )
    policies = x509.CertificatePolicies([x509.PolicyInformation(SHAKEN_CP_OID, None)])
    sp = _cert(
        _name(f"SHAKEN {spc}"),
        sp_key,
        ca_name,
        ca_key,
        not_before=start,
        not_after=now + timedelta(days=365),
        ca=False,
        extra=(tnauth.to_extension(), policies),
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_name)
        .last_update(start)
        .next_update(now + timedelta(days=7))
        .sign(ca_key, hashes.SHA256())
    )
    pki = TestPKI(root, root_key, ca, ca_key, sp, sp_key, crl)
    if out_dir is not None:
        _write(out_dir, pki.pems)
    return pki


def _require_ca(_policy: object, _cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is None or not bc.ca:
        raise ValueError("issuer is not a CA (basicConstraints cA=TRUE required)")


def verify_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: list[x509.Certificate],
    *,
    now: datetime,
) -> None:
    """Build and check a path from ``leaf`` to one of ``roots`` at ``now``; failure → ``shaken.bad_certificate``."""
    if not roots:
        raise ShakenError(BAD_CERTIFICATE, "no trust anchors")
    ca_policy = ExtensionPolicy.permit_all().require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _require_ca)
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(now)
        .extension_policies(ca_policy=ca_policy, ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise ShakenError(BAD_CERTIFICATE, f"certificate chain does not verify: {exc}") from None
