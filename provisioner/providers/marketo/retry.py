"""Which failures are retried, and how long to wait between attempts (exponential backoff with jitter)."""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Marketo codes that mean "try again later" (API-FACTS: 502, 604, 606, 608, 611, 615, 713, 719, 1016,
#: 1019, 1029). Token problems (601, 602) are handled apart: renew the token, then retry.
RETRYABLE_CODES = frozenset({"502", "604", "606", "608", "611", "615", "713", "719", "1016", "1019", "1029"})
#: The failures that happen *before* Marketo does anything (limits, unavailability, token, and
#: "connect": no connection was made), so even a non-idempotent write may be sent again. For the
#: others (timeouts, system and transient errors, lock waits, HTTP 5xx, a connection dropped
#: mid-call) a write may have been applied: it is retried only when it is idempotent, and otherwise
#: raised as WriteOutcomeUnknown for the caller to re-read (see resources/common.write_verified).
REJECTED_BEFORE_PROCESSING = frozenset({"601", "602", "606", "608", "615", "1016", "1029", "connect"})
TOKEN_CODES = frozenset({"601", "602"})
RATE_CODES = frozenset({"606", "615"})  # the 20 s window and the 10-at-once limit: both free up by waiting
WINDOW_FULL = "606"  # the 20 s window is full: more calls now are refused too, whoever sends them


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and delays. A 606 means Marketo's 20 s window is full, a 615 that 10 calls are already in
    flight (other integrations share both): they are retried more often, with waits of a few seconds (long
    enough not to burn calls, short enough to use the window or a slot as it frees)."""

    max_attempts: int = 8
    rate_max_attempts: int = 12
    base_s: float = 0.25
    rate_base_s: float = 2.0
    cap_s: float = 20.0
    rate_cap_s: float = 5.0

    def attempts_for(self, code: str) -> int:
        """How many attempts a failure with ``code`` gets in all."""
        return self.rate_max_attempts if code in RATE_CODES else self.max_attempts

    def delay(self, attempt: int, code: str, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1): half fixed, half jitter."""
        rate = code in RATE_CODES
        cap = self.rate_cap_s if rate else self.cap_s
        ceiling = min(cap, (self.rate_base_s if rate else self.base_s) * (2 ** (attempt - 1)))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def is_retryable(code: str, idempotent: bool) -> bool:
    """Whether a failure with ``code`` may be retried for a request that is (or is not) idempotent."""
    if code in REJECTED_BEFORE_PROCESSING:
        return True
    return idempotent and (code in RETRYABLE_CODES or code.startswith("HTTP 5") or code == "connection")
