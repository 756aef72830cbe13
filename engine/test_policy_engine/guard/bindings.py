"""Every name the real sleep functions are bound to, so that a guarded test reaches the
guard through any of them.

Before Python 3.13 `time.sleep` is no audit event, and `asyncio.sleep` never is: the guard
replaces the function while a guarded test runs. Replacing the attribute `time.sleep` is
not enough: `from time import sleep` in the code under test or a helper bound the real
function to a name of its own, when it was imported. `Bindings` keeps an index of those
names and patches them all while a guarded test runs:

- module globals (`from time import sleep`, `_sleep = time.sleep`);
- attributes of the classes a module defines at its top level (`sleep = time.sleep`,
  `staticmethod(time.sleep)`);
- default arguments of the functions a module defines at its top level and of those
  classes' methods (`def retry(call, sleep=time.sleep)`, a dataclass field's default).

It scans only what is new: a module is scanned once, when `sys.modules` has changed since
the last scan (imports add modules; pytester's runs remove theirs); a module that left is
dropped from the index. Instances, closures, `functools.partial` objects and nested
classes are not looked into. A name bound to anything but the real function (a mock) is
left alone, and so is a name someone else changed while the test ran: only what still
holds the replacement is put back.

Cost (benchmarks/bench_guard.py): the first scan of about 450 modules (pytest, its plugins,
the standard library they import) takes ~15 ms once per process; a test that imports
nothing new pays one `len(sys.modules)` and the patch of each indexed name (~10).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

#: What an index entry names: a module global, a class attribute, a positional default
#: or a keyword-only default of a function.
GLOBAL, CLASS, DEFAULT, KWDEFAULT = range(4)

#: (kind, owner, key): owner is a module's dict, a class or a function; key the name or the
#: index of the default.
Slot = tuple[int, Any, Any]
#: A slot as patched: (slot, what was there, what was put there).
Patched = tuple[Slot, Any, Any]
#: (a real function, what replaces it while a guarded test runs).
Pair = tuple[Callable[..., Any], Callable[..., Any]]

_module_dict = object.__getattribute__  # a lazy module's own __getattribute__ would load it
_class_dict: Any = type.__dict__["__dict__"].__get__  # not the metaclass's __getattribute__
_FUNCTION = types.FunctionType


class Bindings:
    """The index of the names bound to some real functions (or to their replacements),
    and their patching."""

    def __init__(self, skip: tuple[str, ...]) -> None:
        self.skip = skip  # module name prefixes never patched (the guard's own)
        self.forward: dict[int, Any] = {}  # id of a real function -> its replacement
        self.back: dict[int, Any] = {}  # id of a replacement -> the real function
        self.wanted: frozenset[int] = frozenset()  # the ids the scan looks for
        self.modules: dict[str, tuple[object, list[Slot]]] = {}  # name -> (module, slots)
        self.slots: list[Slot] = []  # all slots, flattened
        self.seen = -1  # len(sys.modules) at the last scan

    def refresh(self, pairs: tuple[Pair, ...]) -> None:
        """Scan the modules imported since the last scan for names bound to the real
        functions of `pairs`, or to their replacements (a module imported while a guarded
        test ran bound the replacement)."""
        wanted = frozenset(id(f) for pair in pairs for f in pair)
        if wanted != self.wanted:  # a real function became known: scan everything again
            self.forward = {id(real): new for real, new in pairs}
            self.back = {id(new): real for real, new in pairs}
            self.wanted, self.modules, self.slots, self.seen = wanted, {}, [], -1
        if len(sys.modules) == self.seen:
            return
        current = list(sys.modules.items())  # a copy: another thread may import meanwhile
        present = set()
        changed = False
        for name, module in current:
            present.add(name)
            known = self.modules.get(name)
            if known is not None and known[0] is module:
                continue
            changed = True
            slots = [] if name.startswith(self.skip) else _scan(name, module, wanted)
            self.modules[name] = (module, slots)
        for name in [n for n in self.modules if n not in present]:
            del self.modules[name]
            changed = True
        if changed:
            self.slots = [slot for _, slots in self.modules.values() for slot in slots]
        self.seen = len(current)

    def patch(self) -> list[Patched]:
        """Put the replacement wherever a slot still holds a real function (a mock is left
        alone); returns what `restore` needs."""
        return _swap(self.slots, self.forward)

    def tidy(self) -> None:
        """Put the real function back wherever a replacement was left: where a mock set
        while the guard ran was undone after it (monkeypatch puts back what it found,
        the replacement), or a module imported while it ran bound the replacement."""
        _swap(self.slots, self.back)


def _swap(slots: list[Slot], replace: dict[int, Any]) -> list[Patched]:
    done: list[Patched] = []
    for slot in slots:
        kind, owner, key = slot
        try:
            if kind == GLOBAL:
                old = owner.get(key)
                new = replace.get(id(old))
                if new is not None:
                    owner[key] = new
                    done.append((slot, old, new))
            elif kind == CLASS:
                old = _class_dict(owner).get(key)
                static = type(old) is staticmethod
                new = replace.get(id(old.__func__ if static else old))
                if new is not None:
                    if static:
                        new = staticmethod(new)
                    setattr(owner, key, new)
                    done.append((slot, old, new))
            elif kind == DEFAULT:
                old = owner.__defaults__
                new = replace.get(id(old[key])) if old is not None and key < len(old) else None
                if new is not None:
                    owner.__defaults__ = (*old[:key], new, *old[key + 1:])
                    done.append((slot, old, owner.__defaults__))
            else:
                old = owner.__kwdefaults__
                new = replace.get(id(old.get(key))) if old is not None else None
                if new is not None:
                    owner.__kwdefaults__ = {**old, key: new}
                    done.append((slot, old, owner.__kwdefaults__))
        except (AttributeError, TypeError):  # a read-only class, a changed function
            continue
    return done


def restore(done: list[Patched]) -> None:
    """Put back what `patch` replaced, where the replacement is still there (a mock set
    while the test ran stays: its own undo puts back what it found)."""
    for (kind, owner, key), old, new in reversed(done):
        try:
            if kind == GLOBAL:
                if owner.get(key) is new:
                    owner[key] = old
            elif kind == CLASS:
                if _class_dict(owner).get(key) is new:
                    setattr(owner, key, old)
            elif kind == DEFAULT:
                if owner.__defaults__ is new:
                    owner.__defaults__ = old
            elif owner.__kwdefaults__ is new:
                owner.__kwdefaults__ = old
        except (AttributeError, TypeError):
            continue


def _scan(name: str, module: object, wanted: frozenset[int]) -> list[Slot]:
    """The slots of one module holding one of the wanted functions."""
    if not isinstance(module, types.ModuleType):
        return []
    try:
        namespace = _module_dict(module, "__dict__")
        items = list(namespace.items())
    except Exception:  # a module object of someone else's making
        return []
    slots: list[Slot] = []
    for key, value in items:
        if id(value) in wanted:
            slots.append((GLOBAL, namespace, key))
            continue
        kind = type(value)
        if kind is _FUNCTION:
            if getattr(value, "__module__", None) == name:
                _defaults(value, wanted, slots)
        elif issubclass(kind, type):  # never isinstance: a proxy's __class__ may raise
            try:
                attributes = _class_dict(value)
                if attributes.get("__module__") != name:
                    continue  # scanned where it is defined
                members = list(attributes.items())
            except Exception:  # a class of someone else's making
                continue
            for attribute, member in members:
                inner = member.__func__ if type(member) in (staticmethod, classmethod) else member
                if id(inner) in wanted and type(member) is not classmethod:
                    slots.append((CLASS, value, attribute))
                elif type(inner) is _FUNCTION:
                    _defaults(inner, wanted, slots)
    return slots


def _defaults(function: Any, wanted: frozenset[int], slots: list[Slot]) -> None:
    for index, default in enumerate(function.__defaults__ or ()):
        if id(default) in wanted:
            slots.append((DEFAULT, function, index))
    for key, default in (function.__kwdefaults__ or {}).items():
        if id(default) in wanted:
            slots.append((KWDEFAULT, function, key))
