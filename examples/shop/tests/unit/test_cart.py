import time

import pytest
from shop.cart import Cart, with_retry


def test_an_empty_cart_costs_nothing():
    assert Cart().total() == 0


def test_adding_the_same_item_twice_adds_the_quantities():
    cart = Cart()
    cart.add("apple", 30)
    cart.add("apple", 30, 2)
    assert cart.total() == 90


def test_a_zero_quantity_is_refused():
    with pytest.raises(ValueError, match="positive"):
        Cart().add("apple", 30, 0)


# FAIL: a real sleep in a unit test. The retry waits 2 x 0.5 s, then this test sleeps on:
# pytest-timeout stops it at the unit limit of 1 s.
def test_retry_gives_up_after_three_attempts_real_sleep():
    assert with_retry(lambda: False, attempts=3, pause=0.5) is False
    time.sleep(1)


# PASS: the same test with the sleep patched out runs in microseconds.
def test_retry_gives_up_after_three_attempts(monkeypatch):
    pauses = []
    monkeypatch.setattr("time.sleep", pauses.append)
    assert with_retry(lambda: False, attempts=3, pause=0.5) is False
    assert pauses == [0.5, 0.5]


# WARNING: passes, but close to its limit (over 80 % of 1 s). 0.85 s of CPU time, so
# the warning holds on a loaded machine too (the verdict discounts waiting for a CPU).
def test_bulk_pricing_is_close_to_its_limit():
    deadline = time.thread_time() + 0.85
    cart = Cart()
    n = 0
    while time.thread_time() < deadline:
        cart.add(f"sku{n % 100}", 5)
        n += 1
    assert cart.total() == 5 * n
