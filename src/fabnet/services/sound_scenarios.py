"""Scenarios this process has seen pass the whole check, so that an edit of one can check
only what the edited row affects (`model.edit_checks`).

Whether a scenario passes `build_scenario` depends on its content alone, so a scenario
object that passed once passes for as long as it lives (records and scenarios are
frozen). The newest few are remembered by identity, as a librarian remembers which
copies on the desk were already checked; a scenario read back from the store, or made
by any other path, is not among them and gets the whole check first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from fabnet.model.edit_checks import Warnings
from fabnet.model.scenario import Scenario

#: how many checked scenarios are remembered (the newest; a few versions being edited)
MAX_REMEMBERED = 4

_lock = threading.Lock()
_sound: OrderedDict[int, tuple[Scenario, Warnings | None]] = OrderedDict()


def remember_sound(sc: Scenario, warnings: Warnings | None = None) -> Scenario:
    """Note that `sc` passed the whole check (`build_scenario`, no errors), with each
    warning rule's warnings on it when known; returns it."""
    with _lock:
        _sound[id(sc)] = (sc, warnings)  # held, so the id stays this object's
        _sound.move_to_end(id(sc))
        while len(_sound) > MAX_REMEMBERED:
            _sound.popitem(last=False)
    return sc


def is_sound(sc: Scenario) -> bool:
    """Whether `sc` is an object that passed the whole check in this process."""
    with _lock:
        hit = _sound.get(id(sc))
        return hit is not None and hit[0] is sc


def sound_warnings(sc: Scenario) -> Warnings | None:
    """Each warning rule's warnings on a sound `sc`, when they were noted with it."""
    with _lock:
        hit = _sound.get(id(sc))
        return hit[1] if hit is not None and hit[0] is sc else None
