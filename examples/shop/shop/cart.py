"""A shopping cart: prices in cents, a retrying stock check."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable


class Cart:
    def __init__(self) -> None:
        self.items: dict[str, tuple[int, int]] = {}

    def add(self, sku: str, price: int, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        _, held = self.items.get(sku, (price, 0))
        self.items[sku] = (price, held + quantity)

    def total(self) -> int:
        return sum(price * quantity for price, quantity in self.items.values())


def with_retry(check: Callable[[], bool], attempts: int = 3, pause: float = 0.5) -> bool:
    """Call `check` until it succeeds, sleeping `pause` seconds between attempts."""
    for attempt in range(attempts):
        if check():
            return True
        if attempt < attempts - 1:
            time.sleep(pause)
    return False


def fetch_stock(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.read().decode())


def git_version() -> str:
    done = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()
