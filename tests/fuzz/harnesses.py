"""The fuzz targets: one harness per parser that takes outside input, its typed errors, seeds and dictionary.

A harness gets the fuzzer's bytes and a :class:`Probe`. It builds inputs with :class:`atheris.FuzzedDataProvider`
(small control values are taken from the *end* of the data, the payload is the rest, so a seed is
``payload + bytes(reversed(controls))``: see :func:`seed`), and calls the parser through ``probe.call``, which
counts each call that returned (``ok``) or raised one of the target's typed errors (``errors``). Anything else
that escapes, and a broken invariant the module documents (:func:`expect`), is a crash.

Parser modules are imported inside :func:`build`, which the worker calls under ``atheris.instrument_imports`` so
that their branches guide the fuzzer. The test suite imports only the names, :func:`seed` and :class:`Input`;
the worker is ``python -m tests.fuzz --worker NAME`` (see ``tests/fuzz/__main__.py``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors" / "shaken"

TARGETS = ("json", "identity", "passport", "enterprise", "tnauthlist", "sip", "did", "policy", "envelope")
# Top-level packages whose bytecode atheris instruments as they are imported: the project's, and tomllib (the
# policy file's parser), so that the fuzzer also learns its grammar.
INSTRUMENTED = ("wallet", "node", "did_method", "tomllib")
# Pure-Python stdlib functions the parsers delegate to, imported before the worker starts (so the import hook
# never sees them): instrumented one by one with atheris.instrument_func. The Date header, percent-decoding.
INSTRUMENTED_FUNCTIONS = ("email.utils:parsedate_to_datetime", "email._parseaddr:_parsedate_tz",
                          "urllib.parse:unquote", "urllib.parse:unquote_to_bytes")
# Project modules the parser packages import but that parse nothing from outside (the engine, the verifier, the
# chain follower...): not instrumented, which halves each worker's start-up. Names are exact (atheris's rule).
NOT_INSTRUMENTED = ("node.attest.engine", "node.attest.audit", "node.attest.ledger", "node.attest.snapshot",
                    "node.attest.replay", "node.attest.reasons", "node.shaken.verify", "node.shaken.x5u",
                    "node.shaken.pki", "node.shaken.sign", "node.sync", "node.sync.didhistory",
                    "node.sync.indexview", "node.statuslist", "node.tnindex", "node.tnsegments", "contracts.vocab",
                    "did_method.document", "did_method.resolver", "did_method.multikey", "wallet.keystore",
                    "wallet.keys")
# Third-party packages the parser modules pull in, imported before instrumentation starts: atheris's import hook
# makes every import under it slower, and none of these is fuzzed (a missing one is skipped).
PREIMPORT = ("eth_account", "eth_utils", "eth_abi", "eth_keys", "py_ecc", "cryptography.x509",
             "cryptography.hazmat.primitives.asymmetric.ec", "nacl.bindings", "nacl.signing", "nacl.pwhash", "httpx",
             "pydantic", "rich", "click")

# Crashes found by fuzzing in modules this harness does not own, reported and not yet fixed. A crash whose
# signature starts with a key here is counted as ``known`` and does not fail a run (``--strict`` makes it fail).
# Delete the entry when the module is fixed. Each value is the report (with a reproducer).
KNOWN: dict[str, str] = {}  # crash signature -> why it is tolerated for now; both found here were fixed (policy
# osp_numbers digits, a passphrase that is not Unicode): see their regression tests

_SEP = b"\x00"  # separates the fields of a structured payload
_REPEAT = b"\xff"  # prefix \xff unit \xff suffix: the amplification form (never valid UTF-8, so never ambiguous)
# Text that breaks naive assumptions: non-ASCII digits (str.isdigit() is true, int() may refuse them), spaces and
# line breaks outside ASCII, case mappings that change length, a BOM, a lone surrogate's UTF-8 bytes.
UNICODE_TOKENS = [t.encode() for t in ("\u00b2", "\u0663", "\uff11", "\u00a0", "\u2028", "\u0085", "\u0130",
                                        "\u00df", "\ufeff", "\U0001f4de")] + [b"\xed\xa0\x80"]


class InvariantViolation(AssertionError):
    """A documented property of a parser that one input broke: a crash like any untyped exception."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise InvariantViolation(message)


class Probe:
    """Calls a parser and counts the outcome. Typed errors are expected; anything else propagates (a crash)."""

    def __init__(self, typed: tuple[type[BaseException], ...]) -> None:
        self.typed = typed
        self.ok = 0
        self.errors = 0

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """``(True, result)`` or ``(False, typed error)``."""
        try:
            result = fn(*args, **kwargs)
        except self.typed as exc:
            self.errors += 1
            return False, exc
        self.ok += 1
        return True, result


@dataclass
class Target:
    name: str
    typed: tuple[type[BaseException], ...]
    harness: Callable[[bytes, Probe], None]
    seeds: list[bytes]
    tokens: list[bytes] = field(default_factory=list)
    max_len: int = 8192


def seed(payload: bytes, *controls: int, n: int) -> bytes:
    """The fuzzer input that a harness reading ``n`` control bytes sees as ``controls`` (each 0..255, zeros after
    them) and ``payload``."""
    if len(controls) > n:
        raise ValueError(f"{len(controls)} controls for a harness that reads {n}")
    return payload + bytes(reversed([*controls, *[0] * (n - len(controls))]))


class Input:
    """The fuzzer's bytes as ``n`` control bytes and a payload (atheris's provider reads integers from the end)."""

    def __init__(self, data: bytes, n: int) -> None:
        import atheris

        fdp = atheris.FuzzedDataProvider(data)
        self.controls = [fdp.ConsumeIntInRange(0, 255) for _ in range(n)]
        self.payload: bytes = fdp.ConsumeBytes(atheris.ALL_REMAINING)

    def fields(self, n: int) -> list[bytes]:
        parts = self.payload.split(_SEP, n - 1)
        return parts + [b""] * (n - len(parts))


def amplify(payload: bytes, lo: int, hi: int, shift: int, *, cap: int) -> bytes:
    """``prefix + unit * count + suffix`` for ``prefix \\xff unit \\xff suffix``: nesting and size far beyond what
    mutation reaches (``count`` up to 2M, the result at most about ``cap`` bytes). Other payloads are returned as
    they are."""
    parts = payload.split(_REPEAT, 2)
    if len(parts) != 3 or not parts[1]:
        return payload
    prefix, unit, suffix = parts
    count = min(((hi << 8) | lo) << (shift % 6), cap // len(unit))
    return prefix + unit * count + suffix


def text(data: bytes, how: int = 0) -> str:
    """Bytes as the ``str`` a caller would pass: UTF-8 (undecodable bytes become lone surrogates) or Latin-1."""
    return data.decode("latin-1") if how % 2 else data.decode("utf-8", "surrogateescape")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(data: bytes, how: int) -> str:
    """A JWS segment of ``data``: strict base64url (usually), or padded, standard-alphabet, or the bytes as text."""
    how %= 8
    if how < 5:
        return b64url(data)
    if how == 5:
        return base64.urlsafe_b64encode(data).decode("ascii")
    if how == 6:
        return base64.b64encode(data).decode("ascii")
    return text(data)


def _lenient_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _vector_tokens() -> list[str]:
    tokens = json.loads((VECTORS / "tokens.json").read_text())
    return [entry["value"] for entry in tokens.values()]


def _neustar() -> list[str]:
    lines = (VECTORS / "neustar_examples.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


# ------------------------------------------------------------------------------------------------ 1. strict JSON


def _json() -> Target:
    from wallet.strictjson import JsonError, loads

    def outcome(raw: bytes | str, **limits: int) -> tuple[str, Any]:
        try:
            return "ok", loads(raw, **limits)
        except JsonError as exc:
            return "error", exc.code

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 5)
        mode, a, b, c, d = inp.controls
        # Amplified documents take long to scan (~1 s a MiB, instrumented): one input in four, and up to 128 KiB
        # (65,536 levels) unless a == 255: then just past the 1 MiB limit.
        cap = (1 << 20) + 4096 if a == 255 else 128 << 10
        raw = amplify(inp.payload, b, c, d, cap=cap) if mode & 0x44 == 0x44 else inp.payload
        limits = {"max_bytes": 1 + a * 64, "max_depth": b % 40} if mode & 8 else {}
        kind = mode % 4
        if kind == 0:
            probe.call(loads, raw, **limits)
        elif kind == 1:
            probe.call(loads, bytearray(raw) if mode & 16 else memoryview(raw), **limits)
        else:
            value = text(raw, kind)
            probe.call(loads, value, **limits)
            try:
                encoded = value.encode("utf-8")
            except UnicodeEncodeError:
                return
            # One document, two input types: the reader must decide alike (same value, or same error code).
            expect(outcome(value, **limits) == outcome(encoded, **limits), "str and UTF-8 bytes decoded differently")

    docs = [b'{"a":[1,2.5,-3e10,true,false,null,"x\\u00e9\\n"],"b":{"c":{}}}', b"[]", b'"\\ud83d\\ude00"',
            b'{"a":1,"a":2}', b"[NaN]", b'"\\ud800"', b"[[[[[[[[[[]]]]]]]]]]", b'{"x":"[[[["}', b"1" * 400,
            b'{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"]}']
    seeds = [seed(doc, mode, n=5) for doc in docs for mode in (0, 1, 2, 3)]
    seeds += [seed(b"\xff[\xff]", 0x44, 0, 0xFF, 0x10, 2, n=5), seed(b'{"a":\xff[\xff1', 0x44, 0, 0x40, 1, 0, n=5),
              seed(b'\xff"\\ud800\xff', 0x46, 0, 3, 0, 0, n=5), seed(b"[[[1]]]", 8, 1, 2, 0, 0, n=5)]
    tokens = [b"true", b"false", b"null", b"NaN", b"Infinity", b"-Infinity", b"\\u", b"\\ud800", b"\\udc00", b"1e999",
              b"-0.0", b'":"', b"\xef\xbb\xbf", b"\xed\xa0\x80"]
    return Target("json", (JsonError,), harness, seeds, tokens + UNICODE_TOKENS)


# ------------------------------------------------------------------------------------------ 2. Identity header


def _identity() -> Target:
    from wallet.passport import PassportError, parse_identity
    from wallet.passport import identity_header as ih

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 5)
        mode, a, b, c, _ = inp.controls
        raw = amplify(inp.payload, a, b, c, cap=64 << 10) if mode & 4 else inp.payload
        value = text(raw, mode)
        limits = {"max_len": a * 8} if mode & 8 else {}
        ok, header = probe.call(parse_identity, value, **limits)
        if ok and ih._STRICT.fullmatch(value):
            # The module's promise: the strict fast path and the tolerant scanner agree on a strict value.
            expect(ih._tolerant(value) == header, "strict and tolerant parses differ")

    values = [v for v in _vector_tokens() if ";" in v] + _neustar()
    first, _, last = values[0].split(";", 1)[0].split(".")
    values += [f"{first}..{last};info=<https://x.example/c.pem>;alg=ES256",
               f' {first}.e30.{last} ; INFO = "https://x" ;Alg= "ES256" ; PPT="shaken"; Extra ; foo="a;b\\"c" ',
               f"{first}.e30.{last};info=<did:eidln:test:JhWVrZMQ74mNEjHuvNQjV#key-1>;alg=EdDSA;ppt=eidln"]
    seeds = [seed(v.encode(), mode, n=5) for v in values for mode in (0, 1)]
    seeds += [seed(values[0].encode() + b";x=\xff;a=b\xff", 4, 0xFF, 0x07, 0, n=5),
              seed(values[1].encode(), 8, 20, n=5)]
    tokens = [b";info=<", b">;alg=ES256", b";alg=EdDSA", b";ppt=shaken", b";ppt=eidln", b';ppt="shaken"',
              b"https://", b"..", b"\\\"", b"\t"]
    return Target("identity", (PassportError,), harness, seeds, tokens + UNICODE_TOKENS)


# ------------------------------------------------------------------------------------------ 3. PASSporT decode


def _keys() -> tuple[Any, Any]:
    from wallet.keys import Ed25519Key, P256Key

    return Ed25519Key.from_seed(bytes(range(32))), P256Key.from_private_bytes(bytes(31) + b"\x07")


def _jws_parts(token: str) -> list[bytes]:
    """The decoded segments of a compact JWS (for seeds)."""
    return [base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)) for s in token.split(".")]


def _passport() -> Target:
    from did_method.ident import KeyType
    from wallet.passport import PassportError, decode, verify_signature

    ed, p256 = _keys()
    public = {KeyType.ED25519: ed.public_key, KeyType.P256: p256.public_key}

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 5)
        mode, h, p, s, _ = inp.controls
        if mode & 1:  # structured: header JSON, claims JSON and signature, each encoded as a segment
            header, claims, signature = inp.fields(3)
            token = f"{segment(header, h)}.{segment(claims, p)}.{segment(signature, s)}"
        else:
            token = text(amplify(inp.payload, h, p, s, cap=64 << 10) if mode & 4 else inp.payload, mode >> 1)
        limits = {"max_len": h * 64} if mode & 8 else {}
        ok, parsed = probe.call(decode, token, **limits)
        if ok:  # verify_signature never raises on bad bytes, whatever the key
            key_type = KeyType.ED25519 if mode & 16 else KeyType.P256
            key = public[key_type] if mode & 32 else bytes(parsed.signature[: 32 + (mode & 64 != 0)])
            expect(isinstance(verify_signature(parsed, key_type, key), bool), "verify_signature returned a non-bool")

    tokens_ = [v.split(";", 1)[0] for v in _vector_tokens()] + [v.split(";", 1)[0] for v in _neustar()]
    seeds = [seed(t.encode(), 0, n=5) for t in tokens_]
    seeds += [seed(_SEP.join(_jws_parts(t)), 1 | 32 | (16 * (i % 2)), n=5) for i, t in enumerate(tokens_[:8])]
    seeds += [seed(b'{"alg":"ES256","crit":["x"]}\x00{"a":1,"a":2}\x00' + bytes(64), 1, n=5),
              seed(b'{"alg":"EdDSA"}\x00[[[[[[]]]]]]\x00' + bytes(63), 1, 0, 0, 6, n=5)]
    words = [b'"alg"', b'"ES256"', b'"EdDSA"', b'"none"', b'"HS256"', b'"crit"', b'"ppt"', b'"shaken"', b'"x5u"',
             b'"orig"', b'"dest"', b'"tn"', b'"iat"', b'"attest"', b"eyJ", b"NaN", b"\\ud800"]
    return Target("passport", (PassportError,), harness, seeds, words + UNICODE_TOKENS)


# ------------------------------------------------------------------------------------ 3b. enterprise PASSporT


def _enterprise() -> Target:
    from did_method.syntax import format_did
    from wallet.passport import PassportError, parse_call, sign_call

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 5)
        mode, h, p, s, _ = inp.controls
        if mode & 1:  # structured: header, claims, signature, then the parameters after the token
            header, claims, signature, params = inp.fields(4)
            token = f"{segment(header, h)}.{'' if mode & 8 else segment(claims, p)}.{segment(signature, s)}"
            value = token + text(params)
            decoded = _lenient_json(header) if mode & 2 else None
            kid = decoded.get("kid") if isinstance(decoded, dict) else None
            if isinstance(kid, str):  # info equal to the kid, so that the claims checks are reached
                value = f"{token};info=<{kid}>{text(params)}"
        else:
            value = text(amplify(inp.payload, h, p, s, cap=64 << 10) if mode & 4 else inp.payload, mode >> 1)
        probe.call(parse_call, value)

    ed, p256 = _keys()
    did = format_did("test", bytes(range(16)))
    seeds = []
    for signer in (ed, p256):
        for rcd, crn in ((None, None), ({"nam": "Acme", "apn": "12025550100", "jcd": []}, "Billing")):
            value = sign_call(signer, kid=f"{did}#key-1", orig="12025550142", dest=["13105550143", "13105550144"],
                              iat=1_790_000_000, credential_id="urn:uuid:6a7e0f4c-4c1b-4a7e-9a7e-0f4c4c1b4a7e",
                              rcd=rcd, crn=crn)
            token, params = value.split(";", 1)
            seeds.append(seed(value.encode(), 0, n=5))
            seeds.append(seed(_SEP.join([*_jws_parts(token), b";" + params.encode()]), 1, n=5))
            seeds.append(seed(_SEP.join([*_jws_parts(token), b";alg=" + signer.algorithm.encode() + b";ppt=eidln"]),
                              3, n=5))
    words = [b'"kid"', b'"ppt"', b'"eidln"', b'"typ"', b'"passport"', b'"tnc"', b'"rcd"', b'"nam"', b'"jcd"',
             b'"crn"', b'"origid"', did.encode(), b"#key-1", b";ppt=eidln", b";alg=EdDSA", b";alg=ES256", b"?service="]
    return Target("enterprise", (PassportError,), harness, seeds, words + UNICODE_TOKENS)


# ------------------------------------------------------------------------------------------- 4. TNAuthList DER


def _tnauthlist() -> Target:
    from cryptography import x509

    from node.shaken.errors import ShakenError
    from node.shaken.tnauthlist import OID_TNAUTHLIST, TNAuthList

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 1)
        der = inp.payload
        ok, strict = probe.call(TNAuthList.decode, der, strict=True)
        if ok:  # strict accepts exactly the canonical DER, which it re-encodes byte for byte
            expect(strict.encode() == der, "strict decode accepted non-canonical DER")
        ok, lenient = probe.call(TNAuthList.decode, der, strict=False)
        if ok and lenient.entries:
            again = TNAuthList.decode(lenient.encode(), strict=True)
            expect(again.entries == lenient.entries, "the canonical re-encoding of a lenient decode differs")
            lenient.covers(str(inp.controls[0]) * 3)

    ders = ["3008a006160431303031", "3008a00616043632324b", "3008a00616043936323730",
            "3023a1123010160b3132313535353530313030020164a20d160b3132313535353531323132",
            "3006800431303031", "3006160436323253", "3006130436323253", "160e68747470733a2f2f782f612e70656d",
            "300ea10c160331313102020080160332323202020100", "3008a106160131020102"]
    for pem in sorted((VECTORS / "certs").glob("*.*")):
        for block in re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem.read_bytes(), re.S):
            try:
                ext = x509.load_pem_x509_certificate(block).extensions.get_extension_for_oid(OID_TNAUTHLIST)
            except (ValueError, x509.ExtensionNotFound):
                continue
            if isinstance(ext.value, x509.UnrecognizedExtension):
                ders.append(ext.value.value.hex())
    seeds = [seed(bytes.fromhex(d), 0, n=1) for d in dict.fromkeys(ders)]
    words = [b"\x30", b"\xa0", b"\xa1", b"\xa2", b"\x16", b"\x13", b"\x02\x01", b"\x81\x80", b"\x82\x01\x00", b"#*"]
    return Target("tnauthlist", (ShakenError,), harness, seeds, words, max_len=1024)


# ------------------------------------------------------------------------------------------------ 5. SIP fields


def _sip() -> Target:
    from node.attest.sip import CallRequest, SipInputError, parse_date, tn_of

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 2)
        absent, count = inp.controls
        trunk, from_, to, pai, date, identity = (text(f, absent >> 7) for f in inp.fields(6))
        probe.call(CallRequest.from_sip, trunk=trunk, from_=None if absent & 1 else from_, to=to,
                   pai=None if absent & 2 else pai, date=None if absent & 4 else date,
                   identities=(identity,) * (count % 11))
        for value, what in ((from_, "From"), (pai, "P-Asserted-Identity"), (to, "To")):
            ok, tn = probe.call(tn_of, value, what)
            if ok:
                expect(tn is None or re.fullmatch(r"[0-9*#]{1,20}", tn), f"tn_of gave {tn!r}")
        ok, seconds = probe.call(parse_date, date)
        if ok:
            expect(type(seconds) is int, "parse_date returned a non-int")

    fields = [
        [b"acme-pbx", b'"Alice" <sip:+12025550142@example.com;user=phone>;tag=9fxced76sl', b"<sip:+13105550143@x>",
         b"<tel:+1-202-555-0142>", b"Sat, 28 Nov 2026 19:00:00 GMT", b"eyJ.eyJ.sig;info=<https://x>"],
        [b"t", b"<sip:anonymous@anonymous.invalid>", b"tel:+1(310)555-0143;phone-context=x", b"sips:2025550142@h",
         b"Mon, 1 Jan 2001 00:00:00 +0000", b""],
        [b"gw", b"sip:*67#@x", b"<sip:911@x>", b"<sip:restricted@x>", b"28 Nov 2026 19:00 -0500", b"x"],
    ]
    seeds = [seed(_SEP.join(f), absent, count, n=2) for f in fields for absent, count in ((0, 1), (2, 0), (4, 9))]
    words = [b"sip:", b"sips:", b"tel:", b"<", b">", b"@", b";user=phone", b"anonymous", b"GMT", b"+0000", b"Sat, ",
             b" Nov ", b"19:00:00"]
    return Target("sip", (SipInputError,), harness, seeds, words + UNICODE_TOKENS, max_len=4096)


# ------------------------------------------------------------------------------------------------- 6. DID URLs


def _did() -> Target:
    from did_method.errors import DidError
    from did_method.syntax import MAX_DID_URL_LENGTH, parse_did, parse_did_url

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 4)
        mode, a, b, c = inp.controls
        value = text(amplify(inp.payload, a, b, c, cap=16 << 10) if mode & 4 else inp.payload, mode)
        if mode & 2 == 0:
            ok, did = probe.call(parse_did, value)
            if ok:
                expect(str(did) == value, "a DID has one spelling")
        ok, url = probe.call(parse_did_url, value)
        canonical = str(url) if ok else ""
        if ok and len(canonical) <= MAX_DID_URL_LENGTH:  # re-encoding the query may lengthen it past the limit
            expect(parse_did_url(canonical) == url, "the canonical spelling of a DID URL parses to another DID URL")

    base = "did:eidln:test:JhWVrZMQ74mNEjHuvNQjV"
    values = [base, f"{base}#key-1", f"{base}/path/a%20b?versionId=5#key-1",
              f"{base}?versionTime=2026-01-31T12:00:00Z&x=%E2%82%AC&flag",
              f"{base}?service=files&relativeRef=/a%2Fb?c#d", f"{base}?hl=zQm&versionId=0",
              "did:eidln:a:1111111111111111", "did:eidln:abcdefghijklmnop:YcVfxkQb6JRzqk5kF2tNLv",
              "did:web:example.com", "did:eidln:test:%41JhWVrZMQ74mNEjHuvNQjV"]
    seeds = [seed(v.encode(), mode, n=4) for v in values for mode in (0, 2)]
    seeds += [seed(base.encode() + b"?\xffa=b&\xff#x", 6, 0, 8, 0, n=4)]
    words = [b"did:eidln:", b"versionId=", b"versionTime=", b"service=", b"relativeRef=", b"hl=", b"%25", b"%C3%A9",
             b"%ED%A0%80", b"#key-1", b"T00:00:00Z"]
    return Target("did", (DidError,), harness, seeds, words + UNICODE_TOKENS, max_len=4096)


# ------------------------------------------------------------------------------------------------- 7. policy


def _policy() -> Target:
    from node.attest.policy import PolicyError, load_policy

    shm = Path("/dev/shm")
    path = Path(tempfile.mkdtemp(prefix="eidln-fuzz-", dir=shm if shm.is_dir() else None)) / "policy.toml"
    keys = ("freshness", "future_skew", "algorithms", "mechanisms", "require_vetted", "osp_numbers", "customers",
            "gateway", "max_staleness", "fresh")
    sections = ("[defaults]", "[trunks.pbx]", '[trunks."a b"]', "[trunks.gw]", "[trunks]", "[other]")

    def structured(inp: Input) -> bytes:
        """``key = value`` lines under table headers: the keys from the policy's vocabulary, the values (TOML
        text) from the payload, so that mutation works on what ``parse_policy`` checks."""
        lines = []
        for i, value in enumerate(inp.fields(4)):
            choice = inp.controls[4 + i]
            if i == 0 or choice & 0x80:  # bits 4-6: the table; bits 0-3: the key
                lines.append(sections[(choice >> 4 & 7) % len(sections)].encode())
            if value:
                lines.append(keys[(choice & 15) % len(keys)].encode() + b" = " + value)
        return b"\n".join(lines) + b"\n"

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 8)
        mode, a, b, c = inp.controls[:4]
        if mode % 2:
            raw = structured(inp)
        else:  # the file as the fuzzer wrote it; amplified (large, deep) files parse slowly: one input in 16
            raw = amplify(inp.payload, a, b, c, cap=64 << 10) if mode % 16 == 4 else inp.payload
        path.write_bytes(raw)
        probe.call(load_policy, path)  # the real entry point: the file's bytes, as the CLI reads them

    docs = [
        b'[defaults]\nfreshness = 30\nfuture_skew = 5\nalgorithms = ["EdDSA", "ES256"]\n'
        b'mechanisms = ["osp-numbers", "ledger"]\nrequire_vetted = true\n',
        b'[trunks.pbx]\nosp_numbers = ["12025550100-12025550199", "12025550300"]\n'
        b'customers = ["did:eidln:local:4pNoqb2Nk7wDyPefj7Yv3g"]\nmechanisms = ["ledger", "ledger"]\n'
        b"[trunks.gw]\ngateway = true\n",
        b'trunks = { a = { freshness = 600, algorithms = ["ES256"] }, "b c" = { gateway = false } }\n',
        b"[trunks.a]\nfreshness = 0x10\nfuture_skew = 1_0\n",
        b"[defaults]\nfreshness = 1979-05-27T07:32:00Z\n",
        b'[[trunks]]\nosp_numbers = ["1-2"]\n',
    ]
    seeds = [seed(d, 0, n=8) for d in docs] + [seed(b"a = \xff[\xff", 4, 0, 0x20, 0, n=8)]
    lines = [(b'["12025550100-12025550199", "12025550300"]', 5), (b'["did:eidln:local:4pNoqb2Nk7wDyPefj7Yv3g"]', 6),
             (b"30", 0), (b'["ES256"]', 2), (b'["ledger", "osp-numbers"]', 3), (b"true", 7), (b"false", 4),
             (b"600", 8), (b"1", 1)]
    for i in range(len(lines)):  # [trunks.pbx] with three of them
        three = (lines * 2)[i:i + 3]
        seeds.append(seed(_SEP.join(v for v, _ in three), 1, 0, 0, 0, *((1 << 4) | k for _, k in three), n=8))
    words = [b"[defaults]", b"[trunks.", b"freshness", b"future_skew", b"algorithms", b"mechanisms",
             b"require_vetted", b"osp_numbers", b"customers", b"gateway", b"osp-numbers", b"ledger", b'"""', b"'''",
             b"inf", b"nan", b"true", b"did:eidln:", b"max_staleness"]
    return Target("policy", (PolicyError,), harness, seeds, words + UNICODE_TOKENS, max_len=4096)


# ------------------------------------------------------------------------------------------------ 8. envelope


# The last: what os.environ gives for an EIDLN_PASSPHRASE holding bytes that are not UTF-8 (surrogateescape).
PASSPHRASES = ("correct horse battery staple", "wrong passphrase", "", "p\u00e4ssphr\u00e4se \U0001f511", "\udcff")


def _envelope() -> Target:
    from wallet import envelope
    from wallet.errors import WalletError

    # Speed, not semantics: Argon2id is a pure function, so it is memoized; and a header whose KDF parameters are
    # in range but slower than INTERACTIVE (the fastest the module allows) gets a BLAKE2b stand-in instead of up
    # to 1 GiB of Argon2id. Every header check before the KDF runs unchanged; after it, such files read as
    # a wrong passphrase.
    real_subkeys = envelope._subkeys

    @functools.lru_cache(maxsize=256)
    def subkeys(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> tuple[bytes, bytes]:
        if (opslimit, memlimit) != envelope.INTERACTIVE:
            digest = hashlib.blake2b(passphrase.encode("utf-8", "surrogatepass") + salt, digest_size=48).digest()
            return digest[:32], digest[32:]
        return real_subkeys(passphrase, salt, opslimit, memlimit)

    envelope._subkeys = subkeys
    plaintext = b'{"keys":{"k1":{"type":"Ed25519","secret":"00"}},"version":1}'
    blob = envelope.seal(plaintext, PASSPHRASES[0], envelope.INTERACTIVE)
    valid = json.loads(blob)
    params_variants: list[object] = [
        {"opslimit": 1, "memlimit": envelope.INTERACTIVE[1]}, {"opslimit": 2, "memlimit": 1 << 20},
        {"opslimit": 5, "memlimit": envelope.INTERACTIVE[1]}, {"opslimit": 2, "memlimit": (1 << 30) + 1},
        {"opslimit": True, "memlimit": envelope.INTERACTIVE[1]}, {"opslimit": 2.0, "memlimit": 67108864},
        {"opslimit": "2", "memlimit": 67108864}, {"opslimit": 2}, {"opslimit": 2, "memlimit": 67108864, "x": 1},
        {"opslimit": 4, "memlimit": 1 << 30}, {"opslimit": 3, "memlimit": 1 << 28}, [2, 67108864], None,
        {"opslimit": -(2**70), "memlimit": 2**70},
    ]
    fields = ("version", "kdf", "params", "salt", "aead", "nonce", "key_check")

    def mutate(name: str, value: Any, choice: int, chunk: bytes) -> Any:
        if choice == 1:  # a JSON value from the payload, or its text
            parsed = _lenient_json(chunk)
            return parsed if parsed is not None else text(chunk)
        if name == "params":
            return params_variants[(choice >> 2) % len(params_variants)]
        if name == "version":
            return [2, True, "1", 1.0, 0, -1, 2**80, None][(choice >> 2) % 8]
        if isinstance(value, str):  # hex and base64 strings: truncated, upper-cased, extended, one char changed
            cut = (choice >> 2) % max(len(value), 1)
            return [value[:cut], value.upper(), value + "0", value[:cut] + "g" + value[cut + 1:],
                    value[:cut] + "=" + value[cut:], value + "\n", " " + value, ""][(choice >> 5) % 8]
        return None

    def build(inp: Input) -> bytes:
        mode, shape, *choices = inp.controls
        chunks = inp.fields(10)
        header: dict[str, Any] = dict(valid["header"])
        doc: dict[str, Any] = {"header": header, "ciphertext": valid["ciphertext"]}
        for i, name in enumerate((*fields, "ciphertext")):
            choice = choices[i]
            where = doc if name == "ciphertext" else header
            if choice % 4 == 2:
                where.pop(name, None)
            elif choice % 4 in (1, 3):
                where[name] = mutate(name, where.get(name), choice, chunks[i])
        if shape & 1:
            doc[text(chunks[8]) or "extra"] = _lenient_json(chunks[9])
        if shape & 2:
            doc["header"] = _lenient_json(chunks[8]) if shape & 4 else [header]
        out = json.dumps(doc, sort_keys=bool(shape & 8), indent=1 if shape & 16 else None).encode()
        if shape & 32:  # a member named twice, which the reader refuses
            out = out.replace(b'"kdf"', b'"kdf": 1, "kdf"', 1)
        if shape & 64:
            out = b"\xef\xbb\xbf" + out if shape & 128 else out + chunks[9]
        return out

    def harness(data: bytes, probe: Probe) -> None:
        inp = Input(data, 10)
        mode = inp.controls[0]
        if mode % 4 == 0:  # the file's bytes as the fuzzer wrote them
            blob = amplify(inp.payload, *inp.controls[1:4], cap=128 << 10) if mode & 4 else inp.payload
        else:
            blob = build(inp)
        probe.call(envelope.unseal, blob, PASSPHRASES[(mode >> 4) % len(PASSPHRASES)], "wallet.json")

    seeds = [seed(blob, mode, n=10) for mode in (0, 16, 32, 48, 64)] + [seed(b"", 1, n=10), seed(b"", 17, 8, n=10)]
    for i in range(8):  # one field at a time: replaced, removed, mutated
        for choice in (2, 3, 7, 35, 99):
            choices = [0] * 8
            choices[i] = choice
            seeds.append(seed(b'"x"\x00' * 8 + b"1", 1, 0, *choices, n=10))
    seeds += [seed(b"\xff[\xff", 4, 0x00, 0x80, 0x01, n=10), seed(blob[:-40], 0, n=10),
              seed(b'{"header":{}}\x00{}', 1, 7, n=10)]
    words = [b'"header"', b'"ciphertext"', b'"version"', b'"kdf"', b'"argon2id"', b'"params"', b'"opslimit"',
             b'"memlimit"', b'"salt"', b'"aead"', b'"xchacha20poly1305-ietf"', b'"nonce"', b'"key_check"',
             b"67108864", b"1073741824"]
    return Target("envelope", (WalletError,), harness, seeds, words, max_len=8192)


BUILDERS: dict[str, Callable[[], Target]] = {
    "json": _json, "identity": _identity, "passport": _passport, "enterprise": _enterprise,
    "tnauthlist": _tnauthlist, "sip": _sip, "did": _did, "policy": _policy, "envelope": _envelope,
}
assert tuple(BUILDERS) == TARGETS


def build(name: str) -> Target:
    """The target ``name``. Imports its parser modules: call it under ``atheris.instrument_imports``."""
    return BUILDERS[name]()


def dictionary(tokens: Iterable[bytes]) -> str:
    """libFuzzer dictionary text: one quoted, hex-escaped token a line."""
    lines = []
    for token in tokens:
        escaped = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}" for b in token)
        lines.append(f'"{escaped}"')
    return "\n".join(lines) + "\n"
