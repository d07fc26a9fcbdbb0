"""The STI-VS verifier: end to end over real HTTP, every ATIS-1000082 error case, third-party vectors, garbage."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from node.shaken.errors import ShakenError
from node.shaken.pki import TestPKI, generate_test_pki, issue_crl
from node.shaken.sign import ShakenSigner
from node.shaken.verify import (
    CODES,
    VERSTAT_FAILED,
    VERSTAT_NONE,
    VERSTAT_PASSED,
    StiVerifier,
    Verification,
)
from node.shaken.x5u import CertFetcher
from tests.node.shaken.test_x5u import CertServer, Clock, Route
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import encode

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "shaken"
TOKENS: dict[str, dict[str, str]] = json.loads((VECTORS / "tokens.json").read_text())
NOW = int(datetime.now(UTC).timestamp())
ORIG, DEST = "12155550121", "12155550131"
LSS_SP = VECTORS / "certs" / "libstirshaken_sp.pem"
ORIGID = "123e4567-e89b-12d3-a456-426655440000"

# Verbatim public test certificates (tests/vectors/shaken/README.md): libstirshaken's test STI-CA, FreeSWITCH's
# self-signed mod_sofia test certificate.
LSS_CA_PEM = (VECTORS / "certs" / "libstirshaken_ca.pem").read_bytes()
FS_CERT_PEM = (VECTORS / "certs" / "freeswitch_cert.pem").read_bytes()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="123A", now=datetime.fromtimestamp(NOW, UTC))


@pytest.fixture(scope="module")
def server(pki: TestPKI) -> Iterator[CertServer]:
    srv = CertServer()
    srv.routes["/sp.pem"] = Route(pki.pems["sp.pem"] + pki.pems["ca.pem"], headers={"Cache-Control": "max-age=60"})
    yield srv
    srv.close()


class Env:
    """A signer whose chain the local server serves, and a verifier factory on an injected clock."""

    def __init__(self, pki: TestPKI, server: CertServer) -> None:
        self.pki = pki
        self.x5u = server.url("/sp.pem")
        self.signer = ShakenSigner(P256Key(pki.sp_key), self.x5u)
        self.clock = Clock(float(NOW))
        self.fetcher = CertFetcher(allow_insecure=True, clock=self.clock)

    def verifier(self, **kwargs: Any) -> StiVerifier:
        kwargs.setdefault("roots", [self.pki.root_cert])
        return StiVerifier(fetcher=self.fetcher, clock=self.clock, **kwargs)

    def identity(self, **kwargs: Any) -> str:
        args: dict[str, Any] = {"attest": "A", "orig": ORIG, "dest": [DEST], "iat": NOW, "origid": ORIGID}
        return self.signer.identity(**(args | kwargs))

    def forge(self, header: dict[str, Any] | None = None, claims: dict[str, Any] | None = None,
              params: str = ";alg=ES256;ppt=shaken", key: P256Key | Ed25519Key | None = None) -> str:
        """A token signed with the SP key over arbitrary header/claims (encode refuses nothing we need here)."""
        jose = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": self.x5u} if header is None else header
        body = {"attest": "A", "dest": {"tn": [DEST]}, "iat": NOW, "orig": {"tn": ORIG}, "origid": ORIGID}
        token = encode(jose, body if claims is None else claims, key or P256Key(self.pki.sp_key))
        return f"{token};info=<{self.x5u}>{params}"


@pytest.fixture
def env(pki: TestPKI, server: CertServer) -> Iterator[Env]:
    e = Env(pki, server)
    yield e
    e.fetcher.close()


def check(v: Verification, code: str, reasoncode: int | None, verstat: str = VERSTAT_NONE) -> None:
    assert (v.code, v.reasoncode, v.verstat) == (code, reasoncode, verstat), v
    assert code in CODES


# -- passed ---------------------------------------------------------------------------------------------------------


def test_passed_end_to_end(env: Env) -> None:
    v = env.verifier().verify(env.identity(attest="B"), orig="+1 215 555 0121", dest=[DEST], time=NOW)
    check(v, "vs.passed", None, VERSTAT_PASSED)
    assert v.passed and v.attest == "B" and v.origid == ORIGID and v.x5u == env.x5u
    assert v.reasontext is None and v.reasondesc is None and v.claims is not None and v.claims["iat"] == NOW
    assert v.to_response() == {"verstat": "TN-Validation-Passed", "attest": "B", "origid": ORIGID}
    again = env.verifier().verify(env.identity(), orig=ORIG, dest=["19995550000", DEST], time=None)
    check(again, "vs.passed", None, VERSTAT_PASSED)
    assert env.fetcher.hits >= 1  # the second call used the cache


def test_iat_boundaries(env: Env) -> None:
    verifier = env.verifier(freshness=60, future_skew=5)
    for iat, code in ((NOW - 60, "vs.passed"), (NOW - 61, "vs.stale_iat"), (NOW + 5, "vs.passed"),
                      (NOW + 6, "vs.stale_iat")):
        v = verifier.verify(env.identity(iat=iat), orig=ORIG, dest=[DEST])
        assert v.code == code, (iat - NOW, v)
    stale = verifier.verify(env.identity(iat=NOW - 61), orig=ORIG, dest=[DEST])
    check(stale, "vs.stale_iat", 403)
    assert stale.reasontext == "Stale Date" and stale.attest == "A"
    assert stale.to_response() == {"verstat": "No-TN-Validation", "reasoncode": 403, "reasontext": "Stale Date",
                                   "reasondesc": "'iat' from PASSporT payload is not fresh.", "attest": "A",
                                   "origid": ORIGID}


def test_sip_date_boundaries(env: Env) -> None:
    verifier = env.verifier(freshness=60)
    assert verifier.verify(env.identity(), orig=ORIG, dest=[DEST], time=NOW - 60).passed
    assert verifier.verify(env.identity(), orig=ORIG, dest=[DEST], time=NOW + 60).passed
    check(verifier.verify(env.identity(), orig=ORIG, dest=[DEST], time=NOW - 61), "vs.stale_date", 403)
    check(verifier.verify(env.identity(), orig=ORIG, dest=[DEST], time=NOW + 61), "vs.stale_date", 403)


# -- E1 … E19 ------------------------------------------------------------------------------------------------------


def test_no_identity(env: Env) -> None:
    for value in (None, ""):
        v = env.verifier().verify(value, orig=ORIG, dest=[DEST], time=NOW)
        check(v, "vs.no_identity", 428)
        assert v.reasontext == "Use Identity Header"


def test_identity_parameter_cases(env: Env) -> None:
    good = env.identity()
    token = good.split(";", 1)[0]
    header, _claims, sig = token.split(".")
    verifier = env.verifier()
    cases = {
        f"{header}..{sig};info=<{env.x5u}>;alg=ES256;ppt=shaken": ("vs.compact_form", 438),  # E4
        f"{token};info=<{env.x5u}>;alg=ES256;ppt=div": ("vs.bad_ppt_param", 438),  # E5
        f"{token};info=<{env.x5u}>;alg=ES256": ("vs.passed", None),  # no ppt parameter: RFC 8224 allows it
        f"{token};info=<{env.x5u}>": ("vs.passed", None),
        f"{token};alg=ES256;ppt=shaken": ("vs.no_info", 436),  # E6
        f"{token}": ("vs.no_info", 436),
        f"{token};info=<urn:x-cert:1>;alg=ES256;ppt=shaken": ("vs.bad_info", 436),  # E7
        f"{token};info=<{env.x5u}.missing>;alg=ES256;ppt=shaken": ("vs.x5u_fetch_failed", 436),  # E8
        f"{token};info=<{env.x5u}>;alg=ES384;ppt=shaken": ("vs.bad_alg", 437),
        f"{token};info=<{env.x5u}>;alg=ES256;ppt=shaken": ("vs.passed", None),
        f'{token} ; info={env.x5u} ; alg=ES256 ; ppt="shaken"': ("vs.passed", None),  # tolerant parser
    }
    for value, (code, reason) in cases.items():
        v = verifier.verify(value, orig=ORIG, dest=[DEST], time=NOW)
        assert (v.code, v.reasoncode) == (code, reason), value
    strict = env.verifier(require_ppt_param=True)  # the strict reading: no ppt parameter is E5
    v = strict.verify(f"{token};info=<{env.x5u}>;alg=ES256", orig=ORIG, dest=[DEST], time=NOW)
    check(v, "vs.bad_ppt_param", 438)
    assert "without a 'ppt' parameter" in str(v.reasondesc)
    check(strict.verify(good, orig=ORIG, dest=[DEST], time=NOW), "vs.passed", None, VERSTAT_PASSED)
    v = verifier.verify(f"{token};info=<{env.x5u}>;alg=ES384;ppt=shaken", orig=ORIG, dest=[DEST], time=NOW)
    assert v.reasondesc == "The Identity header's 'alg' parameter is not 'ES256'."  # not blamed on the token
    rcd = env.forge({"alg": "ES256", "ppt": "rcd", "typ": "passport", "x5u": env.x5u}, params="")
    v = verifier.verify(rcd, orig=ORIG, dest=[DEST], time=NOW)  # no ppt parameter: lenient only for shaken
    check(v, "vs.bad_ppt_param", 438)
    refused = StiVerifier(roots=[env.pki.root_cert], fetcher=CertFetcher(clock=env.clock), clock=env.clock)
    check(refused.verify(good, orig=ORIG, dest=[DEST]), "vs.x5u_refused", 436)  # production policy: http
    refused.fetcher.close()


def test_header_cases(env: Env) -> None:
    base = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": env.x5u}
    verifier = env.verifier()
    for name in ("ppt", "typ", "x5u"):  # E9 (a missing alg cannot be signed; see the garbage tests)
        v = verifier.verify(env.forge({k: x for k, x in base.items() if k != name}), orig=ORIG, dest=[DEST])
        check(v, "vs.missing_header_claim", 436)
        assert name in str(v.reasondesc)
    cases = [
        (base | {"x5u": env.x5u + "?other"}, "vs.x5u_mismatch", 436),  # E10
        (base | {"typ": "JWT"}, "vs.bad_typ", 437),  # E11
        (base | {"ppt": "div"}, "vs.bad_ppt", 438),  # E13
    ]
    for header, code, reason in cases:
        check(verifier.verify(env.forge(header), orig=ORIG, dest=[DEST]), code, reason)
    eddsa = env.forge(base | {"alg": "EdDSA"}, key=Ed25519Key.generate(), params=";ppt=shaken")  # E12
    check(verifier.verify(eddsa, orig=ORIG, dest=[DEST]), "vs.bad_alg", 437)


def test_payload_cases(env: Env) -> None:
    claims = {"attest": "A", "dest": {"tn": [DEST]}, "iat": NOW, "orig": {"tn": ORIG}, "origid": ORIGID}
    verifier = env.verifier()
    for name in claims:  # E14 missing
        v = verifier.verify(env.forge(claims={k: x for k, x in claims.items() if k != name}), orig=ORIG, dest=[DEST])
        check(v, "vs.missing_claim", 438)
        assert f"'{name}'" in str(v.reasondesc)
    bad = [{"orig": {"uri": "sip:alice@example.com"}}, {"orig": ORIG}, {"dest": {"tn": DEST}}, {"dest": {"tn": []}},
           {"iat": str(NOW)}, {"iat": True}, {"attest": 1}, {"origid": ""}, {"orig": {"tn": "Alice"}}]
    for change in bad:
        check(verifier.verify(env.forge(claims=claims | change), orig=ORIG, dest=[DEST]), "vs.bad_payload", 438)
    check(verifier.verify(env.identity(), orig="12155550199", dest=[DEST]), "vs.orig_mismatch", 438)  # E16
    check(verifier.verify(env.identity(), orig=ORIG, dest=["12155550199"]), "vs.dest_mismatch", 438)
    check(verifier.verify(env.identity(), orig="not a number", dest=[DEST]), "vs.orig_mismatch", 438)
    check(verifier.verify(env.forge(claims=claims | {"attest": "D"}), orig=ORIG, dest=[DEST]), "vs.bad_attest", 438)


def test_certificate_cases(env: Env, pki: TestPKI) -> None:
    other = generate_test_pki(spc="999B", now=datetime.fromtimestamp(NOW, UTC))
    check(env.verifier(roots=[other.root_cert]).verify(env.identity(), orig=ORIG, dest=[DEST]),
          "vs.cert_untrusted", 437, VERSTAT_FAILED)  # E17
    check(env.verifier(roots=[]).verify(env.identity(), orig=ORIG, dest=[DEST]),
          "vs.cert_untrusted", 437, VERSTAT_FAILED)
    env.clock.now = NOW + 366 * 86400.0  # leaf expired (cache entry capped at notAfter)
    check(env.verifier().verify(env.identity(iat=int(env.clock.now)), orig=ORIG, dest=[DEST]),
          "vs.cert_expired", 437, VERSTAT_FAILED)


def test_signature_failure(env: Env, pki: TestPKI) -> None:
    rogue = P256Key.generate()
    v = env.verifier().verify(env.forge(key=rogue), orig=ORIG, dest=[DEST])  # E18
    check(v, "vs.bad_signature", 438, VERSTAT_FAILED)
    assert v.reasondesc == "Signature validation failed." and v.reasontext == "Invalid Identity Header"
    assert v.to_response()["verstat"] == "TN-Validation-Failed"


def test_revoked_by_crl(env: Env, pki: TestPKI) -> None:
    at = datetime.fromtimestamp(NOW, UTC)
    revoking = issue_crl(pki.ca_cert, pki.ca_key, [pki.sp_cert.serial_number], now=at)
    check(env.verifier(crls=[revoking]).verify(env.identity(), orig=ORIG, dest=[DEST]),
          "vs.cert_revoked", 437, VERSTAT_FAILED)
    check(env.verifier(crls=[pki.crl]).verify(env.identity(), orig=ORIG, dest=[DEST]), "vs.passed", None,
          VERSTAT_PASSED)
    stale = issue_crl(pki.ca_cert, pki.ca_key, [], now=at - timedelta(days=30))
    check(env.verifier(crls=[stale]).verify(env.identity(), orig=ORIG, dest=[DEST]),
          "vs.bad_crl", 437, VERSTAT_FAILED)


def test_generated_pki_with_revoked_sp(server: CertServer) -> None:
    revoked = generate_test_pki(spc="777R", now=datetime.fromtimestamp(NOW, UTC), revoked_sp=True)
    server.routes["/revoked.pem"] = Route(revoked.pems["sp.pem"] + revoked.pems["ca.pem"])
    url = server.url("/revoked.pem")
    identity = ShakenSigner(P256Key(revoked.sp_key), url).identity(attest="A", orig=ORIG, dest=[DEST], iat=NOW)
    with CertFetcher(allow_insecure=True) as fetcher:
        verifier = StiVerifier(roots=[revoked.root_cert], fetcher=fetcher, clock=lambda: float(NOW),
                               crls=[revoked.crl])
        check(verifier.verify(identity, orig=ORIG, dest=[DEST]), "vs.cert_revoked", 437, VERSTAT_FAILED)


# -- third-party vectors ------------------------------------------------------------------------------------------


def lss(strict: bool, now: int) -> tuple[StiVerifier, CertFetcher]:
    """libstirshaken's SP certificate (bare-URI TNAuthList) under its own test STI-CA, primed, no network."""
    fetcher = CertFetcher(clock=lambda: float(now))
    fetcher.prime("https://shaken.signalwire.cloud/sp.pem", LSS_SP.read_bytes())
    verifier = StiVerifier(roots=[x509.load_pem_x509_certificate(LSS_CA_PEM)], fetcher=fetcher,
                           clock=lambda: float(now), strict_tnauthlist=strict)
    return verifier, fetcher


LSS_IAT = 1616442523


def test_libstirshaken_token_lenient_passes_strict_refuses() -> None:
    identity = TOKENS["LSS_README_sih"]["value"]
    lenient, f1 = lss(False, LSS_IAT + 3)
    v = lenient.verify(identity, orig="01256500600", dest=["01256700800"], time=LSS_IAT + 2)
    check(v, "vs.passed", None, VERSTAT_PASSED)  # signature verified with the vector certificate
    assert v.attest == "B" and v.origid == "e32f4189-cb86-460f-bb92-bd3acb89f29c"
    strict, f2 = lss(True, LSS_IAT + 3)
    v = strict.verify(identity, orig="01256500600", dest=["01256700800"])
    check(v, "vs.bad_tnauthlist", 437, VERSTAT_FAILED)
    at_real_clock, f3 = lss(False, NOW)
    check(at_real_clock.verify(identity, orig="01256500600", dest=["01256700800"]), "vs.stale_iat", 403)
    check(at_real_clock.verify(identity, orig="01256500600", dest=["01256700800"], time=NOW - 3600),
          "vs.stale_date", 403)
    for f in (f1, f2, f3):
        f.close()


def test_libstirshaken_bad_tokens_fail_for_their_reason() -> None:
    lenient, fetcher = lss(False, 1615936245 + 3)
    alice_bob = TOKENS["LSS_README_jwtcheck_AliceBob"]["value"] + ";info=<https://shaken.signalwire.cloud/sp.pem>"
    check(lenient.verify(alice_bob + ";ppt=shaken", orig=None, dest=None), "vs.bad_payload", 438)  # TNs "Alice"
    with pytest.raises(ShakenError):  # production policy: not even primed
        fetcher.prime("http://shaken.signalwire.cloud/sp.pem", LSS_SP.read_bytes())
    json_in_strings = TOKENS["LSS_ref_passport_txt_sih"]["value"]  # http x5u, orig/dest are JSON text
    check(lenient.verify(json_in_strings, orig=None, dest=None), "vs.x5u_refused", 436)
    fetcher.close()
    with CertFetcher(allow_insecure=True, clock=lambda: 1603458131.0) as dev:
        dev.prime("http://shaken.signalwire.cloud/sp.pem", LSS_SP.read_bytes())
        verifier = StiVerifier(roots=[x509.load_pem_x509_certificate(LSS_CA_PEM)], fetcher=dev,
                               clock=lambda: 1603458131.0, strict_tnauthlist=False)
        check(verifier.verify(json_in_strings, orig=None, dest=None), "vs.bad_payload", 438)


def test_freeswitch_token() -> None:
    """The FreeSWITCH test certificate is self-signed and has no TNAuthList: as its own root it chains, then
    fails E17 on the missing TNAuthList (so the signature is never reached); with no root it is untrusted."""
    identity = TOKENS["FS_expired_attestA"]["value"]
    iat = 1618373174
    cert = x509.load_pem_x509_certificate(FS_CERT_PEM)
    with CertFetcher(allow_insecure=True, clock=lambda: float(iat)) as fetcher:
        fetcher.prime("http://127.0.0.1:8080/cert.pem", FS_CERT_PEM)
        for roots, code in (([cert], "vs.no_tnauthlist"), ([], "vs.cert_untrusted")):
            for strict in (True, False):
                verifier = StiVerifier(roots=roots, fetcher=fetcher, clock=lambda: float(iat + 2),
                                       strict_tnauthlist=strict)
                check(verifier.verify(identity, orig="15551231234", dest=["15553214322"], time=iat),
                      code, 437, VERSTAT_FAILED)
        stale = StiVerifier(roots=[cert], fetcher=fetcher, clock=lambda: float(NOW))
        check(stale.verify(identity, orig="15551231234", dest=["15553214322"], time=iat), "vs.stale_date", 403)


def test_rfc8224_example_is_not_shaken() -> None:
    with CertFetcher() as fetcher:
        verifier = StiVerifier(roots=[], fetcher=fetcher, clock=lambda: 1443208345.0, require_ppt_param=True)
        check(verifier.verify(TOKENS["RFC8224_sec4_example"]["value"], orig=None, dest=None), "vs.bad_ppt_param", 438)


# -- garbage ---------------------------------------------------------------------------------------------------------


def test_garbage_never_raises(env: Env) -> None:
    token = env.identity().split(";", 1)[0]
    header, claims, sig = token.split(".")
    none_header = b64(b'{"alg":"none","ppt":"shaken","typ":"passport","x5u":"' + env.x5u.encode() + b'"}')
    hs_header = b64(b'{"alg":"HS256","ppt":"shaken","typ":"passport","x5u":"' + env.x5u.encode() + b'"}')
    no_alg = b64(b'{"ppt":"shaken","typ":"passport","x5u":"' + env.x5u.encode() + b'"}')
    dup = b64(b'{"alg":"ES256","alg":"none","ppt":"shaken","typ":"passport","x5u":"x"}')
    dup_claims = b64(b'{"attest":"A","attest":"C","dest":{"tn":["1"]},"iat":1,"orig":{"tn":"1"},"origid":"x"}')
    params = f";info=<{env.x5u}>;alg=ES256;ppt=shaken"
    cases = {
        "\x00\xff garbage": "vs.bad_identity",
        "a" * 20000: "vs.bad_identity",
        "abc;info=<https://x.example/>": "vs.bad_identity",
        f"{token[:-10]}{params}": "vs.bad_payload",  # truncated signature
        f"{header}.{claims[:-3]}.{sig}{params}": "vs.bad_payload",  # truncated payload
        f"{header[:-2]}.{claims}.{sig}{params}": "vs.bad_identity",  # truncated header
        f"{dup}.{claims}.{sig}{params}": "vs.bad_identity",
        f"{header}.{dup_claims}.{sig}{params}": "vs.bad_payload",
        f"{none_header}.{claims}.{params}": "vs.bad_identity",  # alg none with an empty signature
        f"{none_header}.{claims}.{sig}{params}": "vs.bad_alg",
        f"{hs_header}.{claims}.{sig}{params}": "vs.bad_alg",
        f"{no_alg}.{claims}.{sig}{params}": "vs.missing_header_claim",
        f"{token};info=<{env.x5u}>;info=<{env.x5u}>": "vs.bad_identity",
    }
    verifier = env.verifier()
    for value, code in cases.items():
        v = verifier.verify(value, orig=ORIG, dest=[DEST], time=NOW)
        assert v.code == code, (value[:80], v)
        assert v.verstat == VERSTAT_NONE
    odd: list[Any] = [b"bytes", 42, ["x"]]
    for value in odd:
        check(verifier.verify(value, orig=ORIG, dest=[DEST]), "vs.bad_identity", 438)
    check(verifier.verify(env.identity(), orig=ORIG, dest=[DEST], time="now"), "vs.stale_date", 403)  # type: ignore[arg-type]
    check(verifier.verify(env.identity(), orig=ORIG, dest=DEST), "vs.passed", None, VERSTAT_PASSED)


class _Broken(CertFetcher):
    def fetch(self, url: str) -> tuple[x509.Certificate, ...]:
        raise RuntimeError("bug")


def test_internal_error_is_contained() -> None:
    with _Broken() as fetcher:
        verifier = StiVerifier(roots=[], fetcher=fetcher)
        token = TOKENS["LSS_README_sih"]["value"]
        check(verifier.verify(token, orig=None, dest=None), "vs.error", 438)


@settings(max_examples=200, deadline=None)
@given(identity=st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=300).map(lambda b: b64(b))),
       suffix=st.sampled_from(["", ";info=<https://x.example/c.pem>;ppt=shaken", ";info=<urn:a>"]),
       orig=st.one_of(st.none(), st.text(max_size=20)), time=st.one_of(st.none(), st.integers()))
def test_verify_never_raises(identity: str | None, suffix: str, orig: str | None, time: int | None) -> None:
    with CertFetcher(clock=lambda: 1e9) as fetcher:
        verifier = StiVerifier(roots=[], fetcher=fetcher, clock=lambda: 1e9)
        value = identity if identity is None else identity + suffix
        v = verifier.verify(value, orig=orig, dest=[orig] if orig else None, time=time)
        assert v.code in CODES and v.code != "vs.error" and v.verstat in (VERSTAT_NONE, VERSTAT_FAILED)


def test_rfc9410_reason_header() -> None:
    from node.shaken.verify import VERSTAT_NONE, VERSTAT_PASSED, Verification

    failed = Verification(VERSTAT_NONE, 438, "Invalid Identity Header", "Payload is corrupt.", "vs.bad_payload")
    assert failed.sip_reason() == 'STIR;cause=438;text="Invalid Identity Header"'
    assert Verification(VERSTAT_PASSED, None, None, None, "vs.passed").sip_reason() is None


def test_the_one_translation_table() -> None:
    """FROM_SHAKEN maps codes the layers below raise (shaken.*, and passport.* of the SHAKEN PASSporT decoder) to
    outcomes that exist; nothing else in the verifier renames a code."""
    from node.shaken import errors as shaken_errors
    from node.shaken.verify import FROM_SHAKEN
    from wallet.passport import CODES as PASSPORT_CODES

    assert set(FROM_SHAKEN.values()) <= CODES
    assert {code for _step, code in FROM_SHAKEN} <= shaken_errors.CODES | PASSPORT_CODES
    assert {step for step, _code in FROM_SHAKEN} == {"x5u", "payload", "chain", "crl", "tnauthlist"}
