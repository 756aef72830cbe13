"""Pure decisions of the runtime guard: nothing here imports pytest or touches the process.

A `Rules` is what one test may not do: its category's `forbid:` minus the kinds its
`allow` markers allow. `judge` turns one audited event into a `Violation` or None.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from test_policy_engine.plugin.cache import PluginForbid

NETWORK = "network"
SUBPROCESS = "subprocess"
SLEEP = "sleep"
#: The kinds a category may forbid and an `allow` marker may allow, in report order.
KINDS = (NETWORK, SUBPROCESS, SLEEP)

#: JUnit `<property>` name prefix: one property per violation kind, the first line.
PROPERTY_PREFIX = "test_policy.guard."
#: JUnit `<property>` of a test with a violation: its category's mode, `strict` or `warn`
#: (for the audit, which counts the first as failures and the second as warnings).
MODE_PROPERTY = "test_policy.guard_mode"
#: The mode recorded for a test whose forbidden calls the baseline all lists: known debt.
KNOWN_MODE = "known"

#: What a test of a category "may not" do, for the one-line report.
DOING = {
    NETWORK: "open network connections",
    SUBPROCESS: "start processes",
    SLEEP: "sleep for real",
}

#: Audit events that start a process (os.spawn* and multiprocessing go through os.fork,
#: os.posix_spawn or subprocess; asyncio.create_subprocess_* through subprocess.Popen).
PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty",
    "os.spawn", "os.startfile", "pty.spawn",
})
#: Audit events carrying a host name or address to reach: event -> index of the host
#: argument and whether the argument is an address tuple.
NETWORK_EVENTS = {
    "socket.connect": (1, True),
    "socket.sendto": (1, True),
    "socket.getaddrinfo": (0, False),
    "socket.gethostbyname": (0, False),
    "socket.gethostbyaddr": (0, False),
}
#: Every event the audit hook has to look at (`time.sleep`: Python 3.13 and later).
EVENTS = PROCESS_EVENTS | frozenset(NETWORK_EVENTS) | {"time.sleep"}

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                             "ip6-loopback"})


class GuardViolation(Exception):
    """Raised in place of a forbidden call in `strict` mode; its only argument is the
    one-line report, so it pickles (pytest-xdist, multiprocessing)."""


@dataclass(frozen=True)
class Violation:
    """One forbidden call: its kind and the one-line report."""

    kind: str
    message: str


@dataclass(frozen=True)
class Rules:
    """What the tests of one category may not do."""

    category: str
    kinds: frozenset[str]
    strict: bool  # False: `warn`, the test passes with a warning
    loopback: bool
    hosts: frozenset[str]  # allowed names, lower case
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    sleep_over: float
    hints: dict[str, str]  # kind -> what to do instead, for the report
    #: Kinds the baseline lists for this test: recorded as known debt, never failed.
    known: frozenset[str] = frozenset()

    def without(self, allowed: Sequence[str]) -> Rules | None:
        """These rules minus the allowed kinds; None when nothing is left to guard."""
        kinds = self.kinds.difference(allowed)
        if not kinds:
            return None
        if kinds == self.kinds:
            return self
        return dataclasses.replace(self, kinds=kinds)

    def knowing(self, kinds: frozenset[str]) -> Rules:
        """These rules, with `kinds` recorded as known debt instead of failing."""
        return self if not kinds else dataclasses.replace(self, known=kinds & self.kinds)

    def fails(self, kind: str) -> bool:
        """Whether a forbidden call of `kind` fails the test (strict, and not known)."""
        return self.strict and kind not in self.known


def rules_for(category: str, forbid: PluginForbid | None, hints: dict[str, str]
              ) -> Rules | None:
    """The rules of a category, None when it guards nothing."""
    if forbid is None or not forbid.guards:
        return None
    kinds = frozenset(kind for kind, on in ((NETWORK, forbid.network),
                                            (SUBPROCESS, forbid.subprocess),
                                            (SLEEP, forbid.sleep)) if on)
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for host in forbid.allow_hosts:
        try:
            networks.append(ipaddress.ip_network(host, strict=False))
        except ValueError:
            names.add(host.lower().rstrip("."))
    return Rules(category, kinds, forbid.mode == "strict", forbid.loopback,
                 frozenset(names), tuple(networks), forbid.sleep_over, hints)


def hints_for(category: str, forbidding: dict[str, set[str]], markers: dict[str, str],
              policy_name: str) -> dict[str, str]:
    """kind -> the advice of the report, for a test of `category`. `forbidding`: kind ->
    the categories forbidding it; `markers`: category -> its first marker."""
    hints: dict[str, str] = {}
    for kind in KINDS:
        elsewhere = [m for name, m in markers.items()
                     if name != category and name not in forbidding.get(kind, set())]
        first = f"mark it {elsewhere[0]}, " if elsewhere else ""
        if kind == NETWORK:
            hints[kind] = f"{first}mock it, or allow the host in {policy_name}"
        elif kind == SUBPROCESS:
            hints[kind] = f'{first}mock it, or allow it with @pytest.mark.allow("subprocess")'
        else:
            hints[kind] = f"{first}mock it, or wait on an event instead"
    return hints


def host_allowed(rules: Rules, host: object) -> bool:
    """Whether a host (name, address literal, or None for 'this machine') may be reached."""
    if host is None:
        return True  # getaddrinfo(None, port): a local, passive address
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return True  # not something that names another machine
    name = host.lower().rstrip(".")
    if name == "<broadcast>":
        return False
    if name == "" or name in rules.hosts:
        return True  # "": INADDR_ANY, this machine
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return rules.loopback and name in _LOOPBACK_NAMES
    if rules.loopback and (address.is_loopback or address.is_unspecified):
        return True
    return any(address in network for network in rules.networks)


def judge(rules: Rules, event: str, args: tuple[object, ...]) -> tuple[str, str] | None:
    """(kind, what was called) when `event` with `args` is forbidden by `rules`."""
    if event in PROCESS_EVENTS:
        if SUBPROCESS not in rules.kinds:
            return None
        return SUBPROCESS, f"{event}({_shown_command(event, args)})"
    where = NETWORK_EVENTS.get(event)
    if where is None or NETWORK not in rules.kinds:
        return None
    index, is_address = where
    if is_address:
        sock = args[0] if args else None
        family = getattr(sock, "family", None)
        if family not in (socket.AF_INET, socket.AF_INET6):
            return None  # AF_UNIX (asyncio's self-pipe, socketpair), netlink, ...
        address = args[index] if len(args) > index else None
        host = address[0] if isinstance(address, tuple) and address else address
        if host_allowed(rules, host):
            return None
        return NETWORK, f"{event}({address!r})"
    host = args[index] if len(args) > index else None
    if host_allowed(rules, host):
        return None
    shown = ", ".join(repr(a) for a in args[: 2 if event == "socket.getaddrinfo" else 1])
    return NETWORK, f"{event}({shown})"


def sleep_forbidden(rules: Rules, seconds: object) -> bool:
    if SLEEP not in rules.kinds:
        return False
    try:
        return float(seconds) > rules.sleep_over  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False  # the real function reports the bad argument


def report(rules: Rules, kind: str, call: str, site: str) -> str:
    """The one line a violation is reported with."""
    return (f"{rules.category} tests may not {DOING[kind]}: {call} from {site} "
            f"\N{EM DASH} {rules.hints[kind]}")


def _shown_command(event: str, args: tuple[object, ...]) -> str:
    if event == "subprocess.Popen":
        return _short(args[1] if len(args) > 1 else args[0] if args else "")
    if event in ("os.system", "os.startfile"):
        return _short(args[0] if args else "")
    if event in ("os.exec", "os.posix_spawn", "os.spawn"):
        return _short(args[1] if event != "os.spawn" and len(args) > 1 else args)
    return ""


def _short(value: object, limit: int = 80) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def allowed_by_marks(marks: Sequence[tuple[object, ...]]) -> tuple[list[str], list[str]]:
    """(the kinds `allow` markers allow, unknown kinds they name)."""
    allowed: list[str] = []
    unknown: list[str] = []
    for args in marks:
        for arg in args:
            (allowed if arg in KINDS else unknown).append(str(arg))
    return allowed, unknown
