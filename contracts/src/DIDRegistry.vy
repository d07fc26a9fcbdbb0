# pragma version ~=0.4.3
# pragma evm-version cancun
"""
@title EIDLN DID registry
@license Apache-2.0
@notice did:eidln identifiers. The 16-byte id is self-certifying: the first 16 bytes of
        sha256(multicodec key prefix || public key) of the DID's first key. Only the controller (a known
        ledger account) changes a DID. Storage holds only what on-chain rules read (controller, key and
        service state, deactivation); the document is rebuilt from events, each of which links to the
        block of the previous change of the same DID (ERC-1056 style).
"""

interface Members:
    def is_known(account: address) -> bool: view

ED25519: constant(uint8) = 1
P256: constant(uint8) = 2
# verification relationships (bit set)
AUTHENTICATION: constant(uint8) = 1
ASSERTION_METHOD: constant(uint8) = 2
KEY_AGREEMENT: constant(uint8) = 4
CAPABILITY_INVOCATION: constant(uint8) = 8
CAPABILITY_DELEGATION: constant(uint8) = 16
ALL_RELATIONSHIPS: constant(uint8) = 31

MAX_KEYS: constant(uint256) = 16  # active keys per DID: bounds the document (SPEC.md 8.6)
MAX_SERVICES: constant(uint256) = 16
KEY_ACTIVE: constant(uint8) = 1
KEY_REVOKED: constant(uint8) = 2


event DIDCreated:
    did: indexed(bytes16)
    controller: indexed(address)
    previous_change: uint256

event KeyAdded:
    did: indexed(bytes16)
    fragment: String[32]
    key_type: uint8
    public_key: Bytes[33]
    relationships: uint8
    previous_change: uint256

event KeyRevoked:
    did: indexed(bytes16)
    fragment: String[32]
    previous_change: uint256

event ServiceSet:
    did: indexed(bytes16)
    fragment: String[32]
    service_type: String[64]
    endpoint: String[256]
    previous_change: uint256

event ServiceRemoved:
    did: indexed(bytes16)
    fragment: String[32]
    previous_change: uint256

event ControllerChanged:
    did: indexed(bytes16)
    controller: indexed(address)
    previous_change: uint256

event DIDDeactivated:
    did: indexed(bytes16)
    previous_change: uint256


members: public(address)
controller: public(HashMap[bytes16, address])
deactivated: public(HashMap[bytes16, bool])
changed: public(HashMap[bytes16, uint256])
key_state: public(HashMap[bytes16, HashMap[bytes32, uint8]])
active_keys: public(HashMap[bytes16, uint256])
service_count: public(HashMap[bytes16, uint256])
service_state: public(HashMap[bytes16, HashMap[bytes32, bool]])


@deploy
def __init__(members: address):
    """
    @param members The members contract (who is a known account).
    """
    self.members = members


@pure
@internal
def _check_key(key_type: uint8, public_key: Bytes[33]):
    if key_type == ED25519:
        assert len(public_key) == 32, "did: bad key"
    elif key_type == P256:
        assert len(public_key) == 33, "did: bad key"
        first: uint256 = convert(slice(public_key, 0, 1), uint256)
        assert first == 2 or first == 3, "did: bad key"
    else:
        raise "did: bad key type"


@pure
@internal
def _self_id(key_type: uint8, public_key: Bytes[33]) -> bytes16:
    prefix: Bytes[2] = b"\xed\x01"
    if key_type == P256:
        prefix = b"\x80\x24"
    return convert(slice(sha256(concat(prefix, public_key)), 0, 16), bytes16)


@pure
@external
def self_id(key_type: uint8, public_key: Bytes[33]) -> bytes16:
    """
    @notice The id a DID created with this first key must have.
    """
    self._check_key(key_type, public_key)
    return self._self_id(key_type, public_key)


@internal
def _only_controller(did: bytes16):
    c: address = self.controller[did]
    assert c != empty(address), "did: not found"
    assert not self.deactivated[did], "did: deactivated"
    assert c == msg.sender, "did: not controller"
    assert staticcall Members(self.members).is_known(msg.sender), "did: unknown account"


@internal
def _touch(did: bytes16) -> uint256:
    prev: uint256 = self.changed[did]
    self.changed[did] = block.number
    return prev


@internal
def _check_fragment(fragment: String[32]):
    assert len(fragment) > 0, "did: bad fragment"


@internal
def _add_key(did: bytes16, fragment: String[32], key_type: uint8, public_key: Bytes[33], relationships: uint8, prev: uint256):
    self._check_fragment(fragment)
    self._check_key(key_type, public_key)
    assert relationships != 0 and relationships & ALL_RELATIONSHIPS == relationships, "did: bad relationships"
    h: bytes32 = keccak256(fragment)
    assert self.key_state[did][h] == 0 and not self.service_state[did][h], "did: fragment used"
    assert self.active_keys[did] < MAX_KEYS, "did: too many keys"
    self.key_state[did][h] = KEY_ACTIVE
    self.active_keys[did] += 1
    log KeyAdded(did=did, fragment=fragment, key_type=key_type, public_key=public_key,
                 relationships=relationships, previous_change=prev)


@external
def create(did: bytes16, fragment: String[32], key_type: uint8, public_key: Bytes[33], relationships: uint8):
    """
    @notice Create a DID controlled by the sender, with its first verification key.
    @param did The self-certifying id (see self_id).
    @param fragment The key's fragment ("key-1").
    @param key_type 1 Ed25519 (32 bytes), 2 P-256 (33-byte compressed point).
    @param public_key The raw public key.
    @param relationships Bit set: 1 authentication, 2 assertionMethod, 4 keyAgreement,
           8 capabilityInvocation, 16 capabilityDelegation.
    """
    assert staticcall Members(self.members).is_known(msg.sender), "did: unknown account"
    assert self.controller[did] == empty(address), "did: exists"
    self._check_key(key_type, public_key)
    assert self._self_id(key_type, public_key) == did, "did: id mismatch"
    self.controller[did] = msg.sender
    self.changed[did] = block.number
    log DIDCreated(did=did, controller=msg.sender, previous_change=0)
    self._add_key(did, fragment, key_type, public_key, relationships, block.number)


@external
def add_key(did: bytes16, fragment: String[32], key_type: uint8, public_key: Bytes[33], relationships: uint8):
    """
    @notice Add a verification key. Only the controller.
    """
    self._only_controller(did)
    self._add_key(did, fragment, key_type, public_key, relationships, self._touch(did))


@internal
def _revoke_key(did: bytes16, fragment: String[32], prev: uint256):
    h: bytes32 = keccak256(fragment)
    assert self.key_state[did][h] == KEY_ACTIVE, "did: no such key"
    assert self.active_keys[did] > 1, "did: last key"
    self.key_state[did][h] = KEY_REVOKED
    self.active_keys[did] -= 1
    log KeyRevoked(did=did, fragment=fragment, previous_change=prev)


@external
def revoke_key(did: bytes16, fragment: String[32]):
    """
    @notice Revoke a key (it stays in history; signatures it made after now are invalid). Only the
            controller; the last active key cannot be revoked (deactivate the DID instead).
    """
    self._only_controller(did)
    self._revoke_key(did, fragment, self._touch(did))


@external
def rotate_key(did: bytes16, old_fragment: String[32], fragment: String[32], key_type: uint8,
               public_key: Bytes[33], relationships: uint8):
    """
    @notice Add a new key and revoke an old one in one transaction. Only the controller.
    """
    self._only_controller(did)
    prev: uint256 = self._touch(did)
    # revoke first (the DID may be at MAX_KEYS); the new key is added in the same transaction, so the
    # "last key" rule does not apply here
    h: bytes32 = keccak256(old_fragment)
    assert self.key_state[did][h] == KEY_ACTIVE, "did: no such key"
    self.key_state[did][h] = KEY_REVOKED
    self.active_keys[did] -= 1
    log KeyRevoked(did=did, fragment=old_fragment, previous_change=prev)
    self._add_key(did, fragment, key_type, public_key, relationships, block.number)


@external
def set_service(did: bytes16, fragment: String[32], service_type: String[64], endpoint: String[256]):
    """
    @notice Add or replace a service (e.g. a brand / rich-call-data endpoint). Only the controller.
    """
    self._only_controller(did)
    self._check_fragment(fragment)
    assert len(service_type) > 0 and len(endpoint) > 0, "did: bad service"
    h: bytes32 = keccak256(fragment)
    assert self.key_state[did][h] == 0, "did: fragment used"
    if not self.service_state[did][h]:
        assert self.service_count[did] < MAX_SERVICES, "did: too many services"
        self.service_count[did] += 1
    self.service_state[did][h] = True
    log ServiceSet(did=did, fragment=fragment, service_type=service_type, endpoint=endpoint,
                   previous_change=self._touch(did))


@external
def remove_service(did: bytes16, fragment: String[32]):
    """
    @notice Remove a service. Only the controller.
    """
    self._only_controller(did)
    h: bytes32 = keccak256(fragment)
    assert self.service_state[did][h], "did: no such service"
    self.service_state[did][h] = False
    self.service_count[did] -= 1
    log ServiceRemoved(did=did, fragment=fragment, previous_change=self._touch(did))


@external
def change_controller(did: bytes16, new_controller: address):
    """
    @notice Hand the DID to another known account. Only the controller.
    """
    self._only_controller(did)
    assert staticcall Members(self.members).is_known(new_controller), "did: unknown account"
    self.controller[did] = new_controller
    log ControllerChanged(did=did, controller=new_controller, previous_change=self._touch(did))


@external
def deactivate(did: bytes16):
    """
    @notice Deactivate the DID for good. Only the controller.
    """
    self._only_controller(did)
    self.deactivated[did] = True
    log DIDDeactivated(did=did, previous_change=self._touch(did))


@view
@external
def is_controller(did: bytes16, account: address) -> bool:
    """
    @notice True if `account` controls the DID, the DID is active, and the account is still a member or
            onboarded (an offboarded or removed account controls nothing).
    """
    if self.controller[did] != account or account == empty(address) or self.deactivated[did]:
        return False
    return staticcall Members(self.members).is_known(account)


@view
@external
def is_active(did: bytes16) -> bool:
    """
    @notice True if the DID exists and is not deactivated.
    """
    return self.controller[did] != empty(address) and not self.deactivated[did]
