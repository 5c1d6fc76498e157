"""``SlackReport`` for pytorch-pfn-extras (ppe 0.9): Chainer's report, on a ppe manager.

What ppe 0.9 calls on an extension, in its two ways of training (read from its
source and checked by running both; "loop" is a hand-written
``while not manager.stop_trigger: with manager.run_iteration(): ...``):

=================================  ================================  ==================
how the run ends                   ``Trainer.run``                   loop
=================================  ================================  ==================
stop trigger reached               ``finalize``                      ``finalize``
``Exception`` inside an iteration  ``on_error``, then ``finalize``   ``on_error`` only
(the step or an extension)         (from inside its ``except``)
``Exception`` between iterations   nothing                           nothing
(e.g. the data loader)
``KeyboardInterrupt`` anywhere     nothing                           nothing
=================================  ================================  ==================

``initialize`` runs once, when the manager starts its extensions: at the first
``run_iteration``, or earlier when the loop reads ``manager.stop_trigger`` or
``manager.iteration`` (then ``manager.elapsed_time`` raises until the first
iteration begins). ``finalize`` runs at the end of the iteration where the
manager's own copy of the stop trigger fires, before ``Trainer.run``'s
``train_epoch_end`` and ``train_cleanup``.

So the statuses come from: ``initialize`` -> Started; the first log row ->
Training; ``finalize`` -> Completed (Failed if an exception is in flight);
``on_error`` -> Failed at once (in a loop nothing follows it). Where ppe calls
nothing, the run is ended by :mod:`slacknb.frameworks.endings`: the exception
that leaves the cell (IPython) or the process (``sys.excepthook``) ends it as
Failed, or Interrupted for a ``KeyboardInterrupt``; a process that exits with the
run still open (a caught ``KeyboardInterrupt``) ends it as Interrupted. A run is
never Completed after a crash.

:func:`request_stop` asks a manager to stop at the next iteration boundary.
"""

from __future__ import annotations

__all__ = ["request_stop"]


class _Stopping:
    """Stands in for the manager's two stop triggers once a stop is requested.

    ppe 0.9 keeps two copies of the stop trigger: ``_internal_stop_trigger``,
    checked at the end of each iteration, decides ``finalize``; ``_stop_trigger``
    (what ``manager.stop_trigger`` reads) ends the loop. The outer one fires only
    once the inner one has, so the loop never ends without ``finalize``, nor runs
    an iteration after it, whenever the request lands.
    """

    def __init__(self, trigger, inner: "_Stopping | None" = None):
        self._trigger = trigger
        self._inner = inner
        self.fired = False

    def __call__(self, manager) -> bool:
        if self._inner is None:
            self.fired = True
        elif not self._inner.fired:
            return self._trigger(manager)
        return True

    def __getattr__(self, name):
        # get_training_length (progress), may_fire, state_dict: the original's.
        return getattr(self._trigger, name)


def request_stop(manager) -> None:
    """Stop ``manager``'s training gracefully at the next iteration boundary.

    The running iteration finishes with its extensions; then ppe acts as when
    the planned length is reached: the manager calls ``finalize`` on every
    extension (snapshots, LogReport, this report), ``Trainer.run`` returns after
    ``train_epoch_end`` and ``train_cleanup``, and a hand-written
    ``while not manager.stop_trigger`` loop ends. Safe to call from another
    thread, and more than once.
    """
    if isinstance(manager._internal_stop_trigger, _Stopping):
        return
    inner = _Stopping(manager._internal_stop_trigger)
    # The outer one first: until the inner one is in place it behaves as before.
    manager._stop_trigger = _Stopping(manager._stop_trigger, inner)
    manager._internal_stop_trigger = inner
