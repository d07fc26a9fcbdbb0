"""The SHAKEN verification service (STI-VS): RFC 8224 §6.2, RFC 8588, ATIS-1000074 §5.3, ATIS-1000082.

:meth:`StiVerifier.verify` takes an Identity header value and the request's ``from``/``to``/``time`` and returns
a frozen :class:`Verification`; it never raises. The checks run in the order ATIS-1000082 numbers its error
cases as Vermouth implements them (research notes §3.5): E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12,
E13, E14, E16, E17, E18, E15, E19, so ``iat`` freshness is judged after the signature. Decisions:

* ``verstat`` is ``TN-Validation-Failed`` only when the certificate (E17: chain, validity, CRL, TNAuthList, key)
  or the signature (E18) fails; every other failure is ``No-TN-Validation`` (Vermouth), including a stale
  ``iat`` and a bad ``attest`` found after a good signature.
* A token whose JOSE header does not decode at all is E2 (438) *before* any network access; payload and
  signature shape problems are E14 (438), reported after the certificate fetch as in the ATIS order.
* ``alg`` must be ES256: ``none``, HS256, EdDSA and the rest are refused at E12 (437) and never verified. The
  reason names which ``alg`` was wrong: the token header's, or the Identity header's ``alg`` parameter.
* The Identity header's ``ppt`` parameter: RFC 8224's grammar makes it optional (§4.1: it "MUST" be there only
  for PASSporT extensions, and SHAKEN verifiers in the field receive headers without it). By default a header
  without ``ppt`` is accepted when the token's own JOSE header says ``ppt: shaken`` (looked at before any fetch:
  anything else is E5 at once, no network); a ``ppt`` parameter that is present and not ``shaken`` is E5.
  ``require_ppt_param=True`` (``EIDLN_STIVS_REQUIRE_PPT=1``) keeps the strict reading: no parameter is E5 as well.
* The PASSporT's header and claim shapes are :func:`wallet.passport.decode_shaken`'s; the order, the fetch and the
  judgement are this module's.
* A verdict stopped by an error of a layer below takes its outcome from one table, :data:`FROM_SHAKEN` (step, code):
  the fetcher's ``shaken.x5u_*`` (E8), the decoder's ``passport.missing_claim`` / ``passport.bad_claims`` (E14), the
  certificate checks' ``shaken.*`` (E17), each the ATIS-1000082 outcome whose SIP reason it carries. The raised
  message stays in ``reasondesc``; nothing else here renames a code.
* ``orig``/``dest`` are compared as canonical TNs (:func:`wallet.passport.canonical_tn`); one request ``dest``
  equal to one of the PASSporT's ``dest.tn`` is enough. ``None`` means "not given" and skips the comparison
  (the HTTP layer enforces ATIS E1 presence); ``time=None`` skips E3 the same way.
* TNAuthList: ``strict_tnauthlist=False`` accepts the known real-world deviations (libstirshaken's bare URI,
  Telonium's untagged SPC). A certificate whose TNAuthList names numbers but no SPC (an ATIS-1000092 delegate
  certificate) must cover ``orig.tn``.
* The clock is injected; ``iat`` passes when ``now - freshness <= iat <= now + future_skew``.
* **Nothing unverified is echoed.** A :class:`Verification` carries the PASSporT's claims (``claims``, ``origid``,
  ``attest``) only once the signature has verified (E18) with a certificate that passed E17: when it passed, and
  for the two checks after the signature, E15 (stale ``iat``: authentic but old, ``attest`` and ``origid`` still
  say what was signed) and E19 (``attest`` not A/B/C: ``origid`` is given, ``attest`` is not, as it is no
  attestation level). Every earlier failure, including a bad signature (E18), a certificate refusal (E17) and an
  ``orig``/``dest`` mismatch (E16, judged before the signature), carries none of them: a tampered ``attest`` must
  not reach the caller of the STI-VS. ``reasondesc`` is our sentence and names a bad claim without quoting its
  value. ``x5u`` is the Identity header's own ``info`` (request data, not a claim).
* The JOSE header is peeked with :func:`wallet.strictjson.loads` (bounded size and depth, strict).
* **Rich call data** (RFC 9795 ``rcd``, ``rcdi``, ``crn`` as claims of the SHAKEN PASSporT, RFC 9795's "rcd as
  claims only" use that ATIS-1000094 makes SHAKEN's) is judged only when everything else passed
  (``TN-Validation-Passed``), with :func:`wallet.passport.check_rcd`: the ``rcd`` member types; every member that
  references content (``icn``, ``jcl``, an ``http(s)`` URI in ``jcd``) covered by a well-formed ``rcdi`` digest;
  no ``rcdi`` pointer naming nothing; the digests of values carried inline (``/nam``, ``/apn``, ``/jcd``)
  recomputed; ``crn`` a non-empty string. When they hold, the verdict carries ``rcd``, ``rcdi`` (the device needs
  it) and ``crn`` with ``rcd_status = "verified"``; when one fails it carries none of them, ``rcd_status =
  "failed"`` and ``rcd_reason`` (the first ``passport.*`` code), and ``claims`` loses them too. Neither changes
  ``verstat``, which is about the calling number. A verdict that did not pass carries no rich call data and no
  ``rcd_status`` (a stale or unsigned token's display data is not judged). A token without these claims gets no
  ``rcd_status``; the check costs nothing then.
* **No fetch on the verification path.** The STI-VS does not dereference ``icn``/``jcl``: a referenced digest is
  checked for form and coverage only. The display device that fetches ``icn`` checks the bytes against ``rcdi``
  with :func:`wallet.passport.verify_content` before it shows them (RFC 9795: content whose digest does not match
  is not rendered).
"""

from __future__ import annotations

import logging
import re
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from did_method.ident import KeyType
from wallet import strictjson
from wallet.passport import (
    MAX_TOKEN_LENGTH,
    PassportError,
    b64url_decode,
    canonical_tn,
    check_rcd,
    parse_identity,
    verify_signature,
)
from wallet.passport.shaken import ALG, ATTEST_LEVELS, HEADER_MEMBERS, PPT, RCD_CLAIMS, TYP, decode_shaken

from .errors import (
    BAD_CERTIFICATE,
    BAD_CRL,
    BAD_TNAUTHLIST,
    NO_TNAUTHLIST,
    REVOKED,
    X5U_FETCH_FAILED,
    X5U_REFUSED,
    ShakenError,
)
from .pki import check_crl, verify_chain
from .tnauthlist import TNAuthList
from .x5u import CertFetcher

__all__ = ["VERSTAT_PASSED", "VERSTAT_FAILED", "VERSTAT_NONE", "REASON_TEXT", "CODES", "FROM_SHAKEN", "RCD_VERIFIED",
           "RCD_FAILED", "Verification", "StiVerifier"]

log = logging.getLogger(__name__)

VERSTAT_PASSED = "TN-Validation-Passed"
VERSTAT_FAILED = "TN-Validation-Failed"
VERSTAT_NONE = "No-TN-Validation"
REASON_TEXT = {403: "Stale Date", 428: "Use Identity Header", 436: "Bad Identity Info",
               437: "Unsupported Credential", 438: "Invalid Identity Header"}
RCD_VERIFIED = "verified"
RCD_FAILED = "failed"


@dataclass(frozen=True)
class _Outcome:
    code: str
    reasoncode: int | None
    verstat: str
    desc: str | None


def _o(*, code: str, reasoncode: int | None, verstat: str = VERSTAT_NONE, desc: str | None = None) -> _Outcome:
    return _Outcome(code, reasoncode, verstat, desc)


_OUTCOMES = {o.code: o for o in (
    _o(code="vs.passed", reasoncode=None, verstat=VERSTAT_PASSED),
    _o(code="vs.no_identity", reasoncode=428, desc="No Identity header was received."),  # E1
    _o(code="vs.bad_identity", reasoncode=438, desc="The Identity header does not parse."),  # E2
    _o(code="vs.stale_date", reasoncode=403, desc="Received 'time' value is not fresh."),  # E3
    _o(code="vs.compact_form", reasoncode=438,  # E4
       desc="Identity header in compact form instead of the full form SHAKEN requires."),
    _o(code="vs.bad_ppt_param", reasoncode=438,  # E5
       desc="Identity header is received with a 'ppt' parameter value that is not 'shaken'."),
    _o(code="vs.no_info", reasoncode=436, desc="Missing 'info' parameter in the 'identity'."),  # E6
    _o(code="vs.bad_info", reasoncode=436, desc="Invalid 'info' URI."),  # E7
    _o(code="vs.x5u_refused", reasoncode=436, desc="The 'info' URI is refused by the fetch policy."),  # E8
    _o(code="vs.x5u_fetch_failed", reasoncode=436, desc="Failed to dereference 'info' URI."),  # E8
    _o(code="vs.missing_header_claim", reasoncode=436,  # E9
       desc="Missing ppt, typ, x5u or alg in the PASSporT header."),
    _o(code="vs.x5u_mismatch", reasoncode=436,  # E10
       desc="'x5u' from PASSporT header doesn't match the 'info' parameter of identity header value."),
    _o(code="vs.bad_typ", reasoncode=437, desc="'typ' from PASSporT header is not 'passport'."),  # E11
    _o(code="vs.bad_alg", reasoncode=437, desc="'alg' from PASSporT header is not 'ES256'."),  # E12
    _o(code="vs.bad_ppt", reasoncode=438, desc="'ppt' from PASSporT header is not 'shaken'."),  # E13
    _o(code="vs.bad_payload", reasoncode=438, desc="Payload is corrupt."),  # E14
    _o(code="vs.missing_claim", reasoncode=438, desc="Missing mandatory claim in PASSporT payload."),  # E14
    _o(code="vs.orig_mismatch", reasoncode=438,  # E16
       desc="'orig' claim from PASSporT payload doesn't match the received in the verification request claim."),
    _o(code="vs.dest_mismatch", reasoncode=438,  # E16
       desc="'dest' claim from PASSporT payload doesn't match the received in the verification request claim."),
    _o(code="vs.cert_untrusted", reasoncode=437, verstat=VERSTAT_FAILED, desc="Failed to authenticate CA."),  # E17
    _o(code="vs.cert_expired", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate is not valid at this time."),
    _o(code="vs.cert_revoked", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate is revoked."),
    _o(code="vs.bad_crl", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The issuer's CRL is not signed by it or not current."),
    _o(code="vs.no_tnauthlist", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate has no TNAuthList."),
    _o(code="vs.bad_tnauthlist", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate's TNAuthList is malformed."),
    _o(code="vs.tn_not_authorized", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate's TNAuthList does not cover the 'orig' number."),
    _o(code="vs.bad_key", reasoncode=437, verstat=VERSTAT_FAILED,
       desc="The signing certificate does not hold a P-256 key."),
    _o(code="vs.bad_signature", reasoncode=438, verstat=VERSTAT_FAILED,  # E18
       desc="Signature validation failed."),
    _o(code="vs.stale_iat", reasoncode=403, desc="'iat' from PASSporT payload is not fresh."),  # E15
    _o(code="vs.bad_attest", reasoncode=438, desc="'attest' claim in PASSporT is not valid."),  # E19
    _o(code="vs.error", reasoncode=438, desc="The verification service failed on this input."),
)}
CODES = frozenset(_OUTCOMES)

# The one table of translated codes (ATIS-1000082 E8, E14, E17 and their SIP reasons 436 / 437 / 438): (step, code of
# the error that stopped it) -> the outcome. A code a step does not list gets the step's default (_DEFAULT).
FROM_SHAKEN: dict[tuple[str, str], str] = {
    ("x5u", X5U_FETCH_FAILED): "vs.x5u_fetch_failed",  # E8
    ("x5u", X5U_REFUSED): "vs.x5u_refused",
    ("payload", "passport.bad_claims"): "vs.bad_payload",  # E14 (wallet.passport.decode_shaken)
    ("payload", "passport.missing_claim"): "vs.missing_claim",
    ("chain", BAD_CERTIFICATE): "vs.cert_untrusted",  # E17
    ("crl", BAD_CERTIFICATE): "vs.cert_untrusted",
    ("crl", REVOKED): "vs.cert_revoked",
    ("crl", BAD_CRL): "vs.bad_crl",
    ("tnauthlist", BAD_TNAUTHLIST): "vs.bad_tnauthlist",  # a certificate whose extensions do not parse, too
    ("tnauthlist", NO_TNAUTHLIST): "vs.no_tnauthlist",
}
_DEFAULT = {"x5u": "vs.x5u_fetch_failed", "payload": "vs.bad_payload", "chain": "vs.cert_untrusted",
            "crl": "vs.cert_untrusted", "tnauthlist": "vs.bad_tnauthlist"}


def _outcome(step: str, code: str) -> str:
    return FROM_SHAKEN.get((step, code), _DEFAULT[step])


@dataclass(frozen=True)
class Verification:
    """The verdict of one verification: ATIS-1000082 ``verstat`` with the RFC 8224/9410 reason, and a code.
    ``attest``, ``origid`` and ``claims`` are set only when the signature verified; ``rcd``, ``rcdi`` and ``crn``
    only when the verification passed and the rich call data checks held (``rcd_status``, module docstring)."""

    verstat: str
    reasoncode: int | None
    reasontext: str | None
    reasondesc: str | None
    code: str
    attest: str | None = None
    origid: str | None = None
    x5u: str | None = None
    claims: dict[str, Any] | None = None
    rcd: dict[str, Any] | None = None
    rcdi: dict[str, str] | None = None
    crn: str | None = None
    rcd_status: str | None = None  # RCD_VERIFIED, RCD_FAILED, or None: no rich call data judged
    rcd_reason: str | None = None  # the first passport.* code when rcd_status is RCD_FAILED

    @property
    def passed(self) -> bool:
        return self.verstat == VERSTAT_PASSED

    def to_response(self) -> dict[str, Any]:
        """The ATIS-1000082 ``verificationResponse`` object (reason fields only when not passed)."""
        out: dict[str, Any] = {"verstat": self.verstat}
        if self.verstat != VERSTAT_PASSED:
            out.update(reasoncode=self.reasoncode, reasontext=self.reasontext, reasondesc=self.reasondesc)
        if self.attest is not None:
            out["attest"] = self.attest
        if self.origid is not None:
            out["origid"] = self.origid
        if self.rcd_status is not None:
            out["rcdStatus"] = self.rcd_status
            for name, value in (("rcd", self.rcd), ("rcdi", self.rcdi), ("crn", self.crn),
                                ("rcdReason", self.rcd_reason)):
                if value is not None:
                    out[name] = value
        return out

    def sip_reason(self) -> str | None:
        """The RFC 9410 ``Reason`` header value a proxy adds when it lets a failed call continue
        (``STIR;cause=438;text="Invalid Identity Header"``), or None when verification passed."""
        if self.reasoncode is None or self.verstat == VERSTAT_PASSED:
            return None
        text = (self.reasontext or "").replace("\\", "").replace('"', "")
        return f'STIR;cause={self.reasoncode};text="{text}"'


class _Fail(Exception):
    """Internal: stop with outcome ``code``; ``detail`` refines the sentence."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class _State:
    x5u: str | None = None
    claims: dict[str, Any] | None = None
    signed: bool = False  # the signature over ``claims`` verified with a certificate that passed E17


def _peek_header(segment: str) -> dict[str, Any] | None:
    """The JOSE header as JSON, for classification only (E9–E13); ``None`` if it is not a JSON object.

    :func:`wallet.passport.decode` (E14) decodes again, strictly; signatures are checked over received bytes."""
    try:
        value = strictjson.loads(b64url_decode(segment), max_bytes=MAX_TOKEN_LENGTH, max_depth=strictjson.MAX_DEPTH)
    except (PassportError, ValueError):  # strictjson.JsonError is a ValueError
        return None
    return value if isinstance(value, dict) else None


_JWS_THEN_PARAMS = re.compile(r"[ \t]*[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+[ \t]*(;|$)")


def _lacks_info(identity: str) -> bool:
    """E6 rather than E2: a JWS followed by parameters (or none), none of them ``info``."""
    if not _JWS_THEN_PARAMS.match(identity):
        return False
    return not any(part.split("=", 1)[0].strip().lower() == "info" for part in identity.split(";")[1:])


def _rich_call_data(claims: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Verification` fields for the RFC 9795 claims of a passed verification (module docstring)."""
    rcd, rcdi, crn = (claims.get(name) for name in RCD_CLAIMS)
    check = check_rcd(rcd, rcdi, crn=crn)
    if not check.ok:
        return {"rcd_status": RCD_FAILED, "rcd_reason": check.code}
    return {"rcd_status": RCD_VERIFIED, "rcd": rcd, "rcdi": rcdi, "crn": crn}


def _same_tn(request: str, claim: str) -> bool:
    try:
        return canonical_tn(request) == claim
    except PassportError:
        return False


class StiVerifier:
    """Verifies SHAKEN Identity headers against ``roots`` (the STI-PA trust list) with certificates from
    ``fetcher``. Thread-safe if the fetcher is (it is)."""

    def __init__(
        self,
        *,
        roots: Sequence[x509.Certificate],
        fetcher: CertFetcher,
        clock: Callable[[], float] = _time.time,
        freshness: int = 60,
        future_skew: int = 5,
        strict_tnauthlist: bool = True,
        crls: Sequence[x509.CertificateRevocationList] = (),
        require_ppt_param: bool = False,
    ) -> None:
        if freshness < 0 or future_skew < 0:
            raise ValueError("freshness and future_skew must not be negative")
        self.roots = list(roots)
        self.fetcher = fetcher
        self.clock = clock
        self.freshness = freshness
        self.future_skew = future_skew
        self.strict_tnauthlist = strict_tnauthlist
        self.require_ppt_param = require_ppt_param
        self.crls = tuple(crls)

    def verify(
        self, identity: str | None, *, orig: str | None, dest: Sequence[str] | None, time: int | None = None
    ) -> Verification:
        """Verify one Identity header value; never raises (bad input gives a :class:`Verification`)."""
        state = _State()
        try:
            self._verify(identity, orig, dest, time, state)
            code, detail = "vs.passed", None
        except _Fail as fail:
            code, detail = fail.code, fail.detail
        except Exception as exc:  # last resort: a bug must not take the call path down
            log.error("STI-VS internal error (%s)", type(exc).__name__)
            code, detail = "vs.error", None
        outcome = _OUTCOMES[code]
        claims = state.claims if state.signed else None  # nothing unverified leaves (module docstring)
        attest = claims.get("attest") if claims is not None else None
        origid = claims.get("origid") if claims is not None else None
        rich: dict[str, Any] = {}
        if claims is not None and any(claims.get(name) is not None for name in RCD_CLAIMS):
            rich = _rich_call_data(claims) if outcome.verstat == VERSTAT_PASSED else {}
            if rich.get("rcd_status") != RCD_VERIFIED:  # nor through ``claims``
                claims = {k: v for k, v in claims.items() if k not in RCD_CLAIMS}
        return Verification(
            verstat=outcome.verstat,
            reasoncode=outcome.reasoncode,
            reasontext=REASON_TEXT.get(outcome.reasoncode) if outcome.reasoncode is not None else None,
            reasondesc=detail or outcome.desc,
            code=code,
            attest=attest if isinstance(attest, str) and attest in ATTEST_LEVELS else None,
            origid=origid if isinstance(origid, str) else None,
            x5u=state.x5u,
            claims=claims,
            **rich,
        )

    def _verify(self, identity: object, orig: object, dest: object, time: object, state: _State) -> None:
        now = self.clock()
        if identity is None or identity == "":  # E1
            raise _Fail("vs.no_identity")
        if not isinstance(identity, str):
            raise _Fail("vs.bad_identity", "The Identity header is not text.")
        try:  # E2 (and E6: a header without info does not parse)
            header = parse_identity(identity)
        except PassportError:
            raise _Fail("vs.no_info" if _lacks_info(identity) else "vs.bad_identity") from None
        jose = _peek_header(header.token.split(".", 1)[0])
        if jose is None:
            raise _Fail("vs.bad_identity", "The PASSporT header is not base64url JSON.")
        if time is not None:  # E3
            if isinstance(time, bool) or not isinstance(time, int) or abs(now - time) > self.freshness:
                raise _Fail("vs.stale_date")
        if header.compact:  # E4
            raise _Fail("vs.compact_form")
        if header.ppt is None and (self.require_ppt_param or jose.get("ppt") != PPT):  # E5, no parameter
            raise _Fail("vs.bad_ppt_param", "Identity header is received without a 'ppt' parameter "
                        + ("(strict mode requires 'shaken')." if self.require_ppt_param else
                           "and its PASSporT header does not say 'ppt': 'shaken'."))
        if header.ppt is not None and header.ppt != PPT:  # E5
            raise _Fail("vs.bad_ppt_param")
        info = urlsplit(header.info)
        if info.scheme not in ("http", "https") or not info.netloc:  # E7
            raise _Fail("vs.bad_info")
        state.x5u = header.info
        chain = self._fetch(header.info)  # E8
        for name in HEADER_MEMBERS:  # E9
            if name not in jose:
                raise _Fail("vs.missing_header_claim", f"Missing {name} claim in the PASSporT header.")
        if jose["x5u"] != header.info:  # E10
            raise _Fail("vs.x5u_mismatch")
        if jose["typ"] != TYP:  # E11
            raise _Fail("vs.bad_typ")
        if jose["alg"] != ALG:  # E12
            raise _Fail("vs.bad_alg")
        if header.alg not in (None, ALG):
            raise _Fail("vs.bad_alg", "The Identity header's 'alg' parameter is not 'ES256'.")
        if jose["ppt"] != PPT:  # E13
            raise _Fail("vs.bad_ppt")
        try:  # E14: the strict decoder, then the claim shapes (the sentence names a claim, never quotes it)
            passport = decode_shaken(header.token)
        except PassportError as exc:  # a claim refused: the decoder's sentence; a token that does not decode: its code
            detail = exc.message if ("payload", exc.code) in FROM_SHAKEN else f"Payload is corrupt ({exc.code})."
            raise _Fail(_outcome("payload", exc.code), detail) from None
        parsed = passport.parsed
        state.claims = parsed.claims
        orig_tn, dest_tns, iat, attest = passport.orig, passport.dest, passport.iat, passport.attest
        if orig is not None and not (isinstance(orig, str) and _same_tn(orig, orig_tn)):  # E16
            raise _Fail("vs.orig_mismatch")
        if dest is not None:
            wanted = [dest] if isinstance(dest, str) else dest
            if not isinstance(wanted, Sequence) or not any(
                isinstance(d, str) and _same_tn(d, tn) for d in wanted for tn in dest_tns
            ):
                raise _Fail("vs.dest_mismatch")
        key = self._check_certificate(chain, orig_tn, now)  # E17
        if not verify_signature(parsed, KeyType.P256, key):  # E18
            raise _Fail("vs.bad_signature")
        state.signed = True
        if not now - self.freshness <= iat <= now + self.future_skew:  # E15
            raise _Fail("vs.stale_iat")
        if attest not in ATTEST_LEVELS:  # E19
            raise _Fail("vs.bad_attest")

    def _fetch(self, url: str) -> tuple[x509.Certificate, ...]:
        try:
            return self.fetcher.fetch(url)
        except ShakenError as exc:
            code = _outcome("x5u", exc.code)
            raise _Fail(code, f"{_OUTCOMES[code].desc} ({exc.message})") from None

    def _check_certificate(self, chain: tuple[x509.Certificate, ...], orig_tn: str, now: float) -> bytes:
        """E17: validity, chain to a root, CRL, TNAuthList and key of the leaf; the compressed P-256 key."""
        leaf, intermediates = chain[0], list(chain[1:])
        at = datetime.fromtimestamp(now, UTC)
        if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
            raise _Fail("vs.cert_expired")
        try:
            verify_chain(leaf, intermediates, self.roots, now=at)
        except ShakenError as exc:
            raise _Fail(_outcome("chain", exc.code), f"Failed to authenticate CA ({exc.message}).") from None
        if self.crls:
            issuers = [c for c in intermediates + self.roots if c.subject == leaf.issuer]
            try:
                for issuer in issuers[:1]:
                    check_crl(leaf, issuer, self.crls, now=at)
            except ShakenError as exc:
                raise _Fail(_outcome("crl", exc.code)) from None
        try:
            tnal = TNAuthList.from_certificate(leaf, strict=self.strict_tnauthlist)
        except ShakenError as exc:
            code = _outcome("tnauthlist", exc.code)
            raise _Fail(code, f"{str(_OUTCOMES[code].desc)[:-1]} ({exc.message}).") from None
        if tnal.entries and not tnal.spcs and not tnal.covers(orig_tn):
            raise _Fail("vs.tn_not_authorized")
        public_key = leaf.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
            raise _Fail("vs.bad_key")
        return public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
