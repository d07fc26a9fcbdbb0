"""The root of the project's one error tree.

Every error the project raises on purpose derives from :class:`CodedError`: a machine-readable, dotted ``code``
(``numbers.bad_count``, ``wallet.wrong_passphrase``, ``ppt.bad_signature``) and a ``message`` a person understands.
It lives here, in the lowest package (``contracts`` imports nothing of ours), so that ``did_method``, ``wallet`` and
``node`` all derive from it without a package cycle; the CLI's edge and the HTTP API's one exception handler catch
this one class.

A subclass either closes its namespace (``CODES``: a set of codes; any other code is a programming error,
``ValueError``) or leaves it open (``CODES = None``: the node's errors, whose codes include the contracts' revert
reasons, ``members.not_governor``).
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["CodedError", "ContractRefusal"]


class CodedError(Exception):
    """An error raised on purpose: ``code`` (machine-readable) and ``message`` (a sentence, never a secret)."""

    CODES: ClassVar[frozenset[str] | None] = frozenset()
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        code = code if code is not None else type(self).code
        if self.CODES is not None and code not in self.CODES:
            raise ValueError(f"unknown {type(self).__name__} code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ContractRefusal(CodedError):
    """A contract rule refused a write (its namespaced revert reason is the code, ``dids.not_controller``); nothing
    was written. The node's ``LedgerRuleError`` is one; the wallet catches this class to undo local state."""

    CODES: ClassVar[frozenset[str] | None] = None
    code = "ledger.reverted"
