"""Anlas accounts per token and the prices the simulator charges (contract §11, via cost.py)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Final

from ..contract.constants import OPUS_TIER
from ..contract.cost import MAX_PER_IMAGE, generation_cost
from .refusals import SimError, validation_error
from .request_checks import GenPlan

ANONYMOUS: Final = "anonymous"
# Opus V5 images are free until the month's allowance is used up; each free image uses this
# many percent of it (NovelAI does not publish the rate; the simulator's choice).
V5_PERCENT_PER_FREE_IMAGE: Final = 1
# Subscription Anlas that refill monthly by tier; the rest of a balance counts as purchased.
FIXED_ANLAS_BY_TIER: Final[dict[int, int]] = {0: 0, 1: 1000, 2: 1000, 3: 10000}


def token_key(token: str | None) -> str:
    """The name an account has in stats: a short hash, never the token itself."""
    if token is None:
        return ANONYMOUS
    return "tok-" + hashlib.sha256(token.encode()).hexdigest()[:10]


@dataclass
class Account:
    balance: int
    spent: int = 0
    v5_percent_used: int = 0


class Ledger:
    """Balances per token key; all methods are thread-safe."""

    def __init__(self, default_balance: int, tier: int) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self.default_balance = default_balance
        self.tier = tier

    def _account(self, key: str) -> Account:
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = Account(self.default_balance)
        return account

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self._accounts

    def set_balance(self, key: str, anlas: int) -> None:
        with self._lock:
            self._account(key).balance = anlas

    def balance(self, key: str) -> int:
        with self._lock:
            return self._account(key).balance

    def account(self, key: str) -> Account:
        with self._lock:
            a = self._account(key)
            return Account(a.balance, a.spent, a.v5_percent_used)

    def set_v5_usage(self, key: str, percent: int) -> None:
        """How much of the month's Opus V5 allowance is used (100 = none left)."""
        with self._lock:
            self._account(key).v5_percent_used = max(0, min(100, percent))

    def v5_allowance_left(self, key: str) -> bool:
        with self._lock:
            return self.tier == OPUS_TIER and self._account(key).v5_percent_used < 100

    def check(self, key: str, amount: int) -> None:
        """402 if the account cannot pay ``amount`` now."""
        with self._lock:
            balance = self._account(key).balance
        if amount > balance:
            raise SimError(
                402,
                "Insufficient Anlas",
                f"this request costs {amount} Anlas; the balance is {balance}",
            )

    def charge(self, key: str, amount: int, *, v5_free_images: int = 0) -> None:
        """Take ``amount`` (402 if it cannot be paid) and meter free V5 images."""
        with self._lock:
            account = self._account(key)
            if amount > account.balance:
                raise SimError(
                    402,
                    "Insufficient Anlas",
                    f"this request costs {amount} Anlas; the balance is {account.balance}",
                )
            account.balance -= amount
            account.spent += amount
            used = account.v5_percent_used + v5_free_images * V5_PERCENT_PER_FREE_IMAGE
            account.v5_percent_used = min(100, used)

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                key: {"spent": a.spent, "balance": a.balance} for key, a in self._accounts.items()
            }

    def subscription(self, key: str) -> dict[str, object]:
        """The ledger's part of ``/user/subscription``: Anlas split and V5 usage."""
        with self._lock:
            account = self._account(key)
            fixed = min(account.balance, FIXED_ANLAS_BY_TIER.get(self.tier, 0))
            return {
                "trainingStepsLeft": {
                    "fixedTrainingStepsLeft": fixed,
                    "purchasedTrainingSteps": account.balance - fixed,
                },
                "usage": {
                    "percent": account.v5_percent_used,
                    "isNegative": False,
                    "timeUntilNextPercent": 0,
                },
            }


def generation_price(plan: GenPlan, tier: int, v5_allowance_left: bool) -> tuple[int, int]:
    """(Anlas to charge, free V5 images to meter) for a generate request."""
    cap = plan.cap
    # Opus V5 images stop being free once the monthly allowance is used up (contract §11).
    metered = cap.opus_allowance_metered
    estimate = generation_cost(
        cap,
        width=plan.width,
        height=plan.height,
        steps=plan.steps,
        n_samples=plan.n_samples,
        smea=plan.sm,
        smea_dyn=plan.sm_dyn,
        strength=plan.strength,
        vibes=plan.vibes,
        character_references=plan.character_references,
        tier=tier,
        v5_allowance_left=v5_allowance_left,
    )
    if estimate.over_per_image_limit:  # checked before V5's ×1.5, as the client does
        raise validation_error(
            f"this image would cost {estimate.base_per_image} Anlas, over the limit of "
            f"{MAX_PER_IMAGE}"
        )
    free = plan.n_samples - estimate.billable_samples if metered else 0
    return estimate.total, free
