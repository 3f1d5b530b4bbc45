"""Handles for registered hooks (PyTorch's RemovableHandle).

Tensor gradient hooks and Module forward hooks keep their hooks in a dict keyed by
an id; registering returns a handle whose `remove()` takes the hook out again.
Nothing here knows about tensors or modules, so every layer may use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_next_id = itertools.count()


class RemovableHandle:
    """Returned by every `register_*hook`: `handle.remove()` unregisters the hook.

    Also a context manager, so `with module.register_forward_hook(f): ...` keeps the
    hook for one block only.
    """

    def __init__(self, hooks: dict[int, Any], *extra: dict[int, Any]) -> None:
        self.id = next(_next_id)
        self._dicts = (hooks, *extra)  # e.g. the hooks and their with_kwargs flags

    def remove(self) -> None:
        """Unregister the hook; removing twice is harmless, as in PyTorch."""
        for hooks in self._dicts:
            hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def add_hook(hooks: dict[int, Callable], hook: Callable, prepend: bool = False,
             *extra: dict[int, Any]) -> RemovableHandle:
    """Put `hook` into `hooks` (last, or first with prepend=True); return its handle."""
    if not callable(hook):
        raise TypeError(f"register hook: expected a callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, *extra)
    if prepend:
        items = list(hooks.items())
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(items)
    else:
        hooks[handle.id] = hook
    return handle
