"""One measured fix to the archived SDK's HTTP layer, applied once at start-up.

msrest 0.7.1 builds its retry policy for every `ConnectorClient` (botbuilder makes two per turn)
with `[i for i in range(999) if i not in self.safe_codes]`, a list membership test: ~500 000
comparisons, about 5 ms per client, roughly half of a whole turn (`make bench`, "Whole turns").
A frozenset gives the same retry codes. msrest and botbuilder are archived, so this cannot be
fixed upstream; it goes with the rest of `teams/` when moving to the Microsoft 365 Agents SDK.
"""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy

__all__ = ["apply"]


def apply() -> None:
    """Idempotent: make the retry policy's membership test O(1)."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
