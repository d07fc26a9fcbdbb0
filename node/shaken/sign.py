"""The OSP's SHAKEN authentication service (RFC 8588, ATIS-1000074 §5): one ES256 PASSporT per call.

:class:`ShakenSigner` holds the STI key and the URL its certificate is served at; the PASSporT itself (header,
claims, canonical bytes, the Identity header value ``<jws>;info=<x5u>;alg=ES256;ppt=shaken``) is
:mod:`wallet.passport.shaken`'s. What the signer adds is the service's contract: ``origid`` defaults to a fresh UUID
(RFC 8588 §4: opaque, unique per call), and a request it cannot sign is one error, ``shaken.bad_request``
(:class:`ShakenError`), whose message is the PASSporT layer's sentence and whose cause is its
:class:`~wallet.passport.PassportError` (the ``passport.*`` code stays readable as ``__cause__.code``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wallet.keys import P256Key
from wallet.passport import PassportError
from wallet.passport.shaken import ALG, ATTEST_LEVELS, shaken_header, shaken_identity_of, shaken_passport

from .errors import BAD_REQUEST, ShakenError

__all__ = ["ShakenSigner", "ATTEST_LEVELS"]


@dataclass(frozen=True)
class ShakenSigner:
    """Signs SHAKEN PASSporTs with the OSP's STI key; ``x5u`` is where its certificate (chain) is served."""

    key: P256Key
    x5u: str

    def __post_init__(self) -> None:
        if self.key.algorithm != ALG:
            raise ShakenError(BAD_REQUEST, "SHAKEN PASSporTs are ES256 only (RFC 8588 §3)")
        try:
            shaken_header(self.x5u)
        except PassportError as exc:
            raise ShakenError(BAD_REQUEST, exc.message) from exc

    def passport(self, *, attest: str, orig: str, dest: list[str] | tuple[str, ...], iat: int,
                 origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                 rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
        """The compact JWS (:func:`wallet.passport.shaken_passport`). ``rcd`` adds RFC 9795 rich call data
        (``{"nam": …}``), ``rcdi`` the integrity digests of what ``rcd`` references by URL (``{"/icn": "sha256-…"}``)
        and ``crn`` the call reason."""
        try:
            return shaken_passport(self.key, x5u=self.x5u, attest=attest, orig=orig, dest=dest, iat=iat,
                                   origid=str(uuid.uuid4()) if origid is None else origid, rcd=rcd, rcdi=rcdi,
                                   crn=crn)
        except PassportError as exc:
            raise ShakenError(BAD_REQUEST, exc.message) from exc

    def identity(self, *, attest: str, orig: str, dest: list[str] | tuple[str, ...], iat: int,
                 origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                 rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
        """The SIP Identity header value (RFC 8588 §6 / ATIS-1000074 §5.3.1, full form)."""
        token = self.passport(attest=attest, orig=orig, dest=dest, iat=iat, origid=origid, rcd=rcd, rcdi=rcdi,
                              crn=crn)
        return shaken_identity_of(token, self.x5u)
