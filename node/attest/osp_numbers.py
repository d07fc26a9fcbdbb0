"""The plain SHAKEN case as a mechanism: the OSP itself assigned the calling number to this trunk's customer.

No enterprise signature is needed (ATIS-1000074 §5.2.3: the OSP knows its customer and the customer's numbers).
The numbers are the trunk's ``osp_numbers`` in the local policy. Asked once per call (``tokens`` is empty); a number
the trunk was not assigned gets no reason (most calls are not about the OSP's own numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import TrunkPolicy
from .reasons import Reason
from .sip import CallRequest
from .snapshot import LedgerState

__all__ = ["OspNumbersMechanism", "AssignedNumber"]


@dataclass(frozen=True, slots=True)
class AssignedNumber:
    trunk: str
    number: str

    @property
    def entity(self) -> str:
        return f"trunk:{self.trunk}"

    def to_json(self) -> dict[str, object]:
        return {"trunk": self.trunk, "number": self.number}


class OspNumbersMechanism:
    name = "osp-numbers"
    verified = "osp.assigned_number"
    tokens: tuple[type, ...] = ()

    def evaluate(self, token: object, *, req: CallRequest, trunk: TrunkPolicy, now: int,
                 ledger: LedgerState | None) -> AssignedNumber | Reason | None:
        if req.orig.isdigit() and trunk.assigned(int(req.orig)):
            return AssignedNumber(trunk.trunk, req.orig)
        return None
