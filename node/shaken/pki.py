"""A throw-away SHAKEN test PKI (STI-PA-like root → STI-CA → SP certificate) and a chain check.

Everything here but :func:`verify_chain` and :func:`check_crl` is for tests and local demos: keys are
unencrypted P-256 (ES256) keys. The chain check uses ``cryptography.x509.verification.PolicyBuilder`` with a
relaxed extension policy: the web-PKI defaults would demand a subjectAltName on the leaf, which SHAKEN SP
certificates do not carry. What is still enforced by cryptography's path builder: names chain, signatures
verify with the issuer key, every certificate is valid at ``now``, and issuers are CAs (we additionally require
``basicConstraints cA=TRUE`` on every CA certificate; pathLenConstraint is honoured by the builder).

Revocation (:func:`check_crl`) is a separate step because cryptography's verifier does not read CRLs. Decisions:
a CRL counts if its issuer name is the leaf's issuer (and its authorityKeyIdentifier, when both are present, is
the issuer's subjectKeyIdentifier: two test CAs may share a name); it must then verify with that issuer's
(P-256, as ATIS-1000080 requires) key and ``now`` must lie in its ``thisUpdate``/``nextUpdate`` window, else
``shaken.bad_crl`` (fail closed: a forged or stale CRL proves nothing). When no CRL of the issuer is configured
there is nothing to check (soft-fail, as Asterisk and libstirshaken do without a ``crl_file``). Delta and
indirect CRLs are not supported.
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

from .errors import BAD_CERTIFICATE, BAD_CRL, REVOKED, ShakenError
from .tnauthlist import SPC, TNAuthList

__all__ = ["TestPKI", "generate_test_pki", "issue_crl", "verify_chain", "check_crl", "SHAKEN_CP_OID"]

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


def issue_crl(
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    serials: tuple[int, ...] | list[int] = (),
    *,
    now: datetime,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
) -> x509.CertificateRevocationList:
    """A CRL by ``issuer`` revoking ``serials`` (revocation date ``now``); window default [now - 1 h, now + 7 d]."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update or now - timedelta(hours=1))
        .next_update(next_update or now + timedelta(days=7))
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        aki = None
    if aki is not None:
        builder = builder.add_extension(aki, critical=False)
    for serial in serials:
        revoked = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        builder = builder.add_revoked_certificate(revoked)
    return builder.sign(issuer_key, hashes.SHA256())


def generate_test_pki(
    *, spc: str, out_dir: Path | None = None, now: datetime, revoked_sp: bool = False
) -> TestPKI:
    """Root (10 y) → STI-CA (5 y, pathlen 0) → SP cert "SHAKEN <spc>" (1 y) with TNAuthList ``[0] spc``.

    The STI-CA's CRL is empty, or lists the SP certificate when ``revoked_sp``."""
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
    crl = issue_crl(ca, ca_key, (sp.serial_number,) if revoked_sp else (), now=now, this_update=start)
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


def _same_key_id(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """False only when both key identifiers are present and differ (another CA with the same name)."""
    try:
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return True
    return aki is None or aki == ski


def check_crl(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    crls: list[x509.CertificateRevocationList] | tuple[x509.CertificateRevocationList, ...],
    *,
    now: datetime,
) -> None:
    """Check ``leaf`` against every CRL in ``crls`` issued by ``issuer`` (see the module docstring).

    Revoked → ``shaken.revoked``; a CRL under the issuer's name with a bad signature or outside its window →
    ``shaken.bad_crl``. CRLs of other issuers are ignored."""
    if leaf.issuer != issuer.subject:
        raise ShakenError(BAD_CERTIFICATE, "the given issuer did not issue this certificate")
    public_key = issuer.public_key()
    for crl in crls:
        if crl.issuer != issuer.subject or not _same_key_id(crl, issuer):
            continue
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(public_key):
            raise ShakenError(BAD_CRL, "a CRL under the issuer's name is not signed by the issuer")
        next_update = crl.next_update_utc
        if now < crl.last_update_utc or next_update is None or now > next_update:
            raise ShakenError(BAD_CRL, "the issuer's CRL is not current (outside thisUpdate/nextUpdate)")
        if crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None:
            raise ShakenError(REVOKED, f"certificate serial {leaf.serial_number:x} is revoked by its issuer")
