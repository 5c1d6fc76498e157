"""Widget clicks that reach a kernel busy training.

A cell that runs ``trainer.run()`` blocks the kernel's main thread, and ipykernel
handles the browser's messages (a click is a ``comm_msg``) on that thread, after the
cell. jupyter-ui-poll's answer is to handle pending messages from inside the cell,
holding back the requests that must wait (a queued cell) and replaying them after
it. Its 1.1 release calls ``Kernel.do_one_iteration``, which ipykernel 7 no longer
has; this module does the same by reading the socket the main thread's shell
messages arrive on, which differs between the two ipykernels:

* ipykernel 7: a shell-channel thread forwards every shell message to the main thread
  over an in-process ZMQ socket; held messages go back to the callback that socket's
  stream would have called.
* ipykernel 6 (Colab, many pinned environments): the main thread's stream reads the
  shell socket itself, but only between cells, when its event loop runs; held
  messages go to ``Kernel.schedule_dispatch``, the queue that stream feeds.

In both :meth:`KernelPoller.poll` reads that socket without blocking, on the main
thread (its only reader while the cell runs). A ``comm_msg`` is handled at once, as
ipykernel itself does for comms while a cell holds the shell; the parent header is
put back afterwards, so the cell's output stays in its cell. Any other message (a
queued cell, a completion request) is held, and when the cell ends (IPython's
``post_run_cell``) the held ones, and whatever else is pending, are handed on in
their order: they queue for the shell behind what was read before the cell, and
before anything newer.

Where this is not possible (another kernel, not the main thread) :func:`kernel_poller`
returns None, and the notebook view shows no Stop button. A poll with nothing pending
is one non-blocking ``recv`` (bench/widget.py measures it).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

__all__ = ["KernelPoller", "kernel_poller"]

_IMMEDIATE = frozenset({"comm_msg"})


def kernel_poller() -> KernelPoller | None:
    """The poller of this process's ipykernel, when it can hear clicks mid-cell."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return None
    if not Kernel.initialized():
        return None
    kernel = Kernel.instance()
    poller = getattr(kernel, "_slacknb_poller", None)
    if poller is None:
        poller = _ipykernel7_poller(kernel) or _ipykernel6_poller(kernel)
        kernel._slacknb_poller = poller
    return poller


def _ipykernel7_poller(kernel) -> KernelPoller | None:
    manager = getattr(getattr(kernel, "shell_channel_thread", None), "manager", None)
    shell = getattr(kernel, "shell", None)
    if manager is None or shell is None or not hasattr(kernel, "_main_asyncio_lock"):
        return None
    pair = manager.get_shell_channel_to_subshell_pair(None)

    def deliver(frames) -> None:
        # As the stream would: the same callback, the same steps to the shell lock, so
        # the order of arrival is the order of handling.
        stream = pair.to_stream
        callback = getattr(stream, "_recv_callback", None)
        if callback is not None and hasattr(stream, "_run_callback"):
            stream._run_callback(callback, frames)
        else:
            asyncio.ensure_future(kernel.shell_main(None, frames))

    return KernelPoller(kernel, shell, inbox=pair.to_socket,
                        replies=manager.get_subshell_to_shell_channel_socket(None), deliver=deliver)


def _ipykernel6_poller(kernel) -> KernelPoller | None:
    stream = getattr(kernel, "shell_stream", None)
    shell = getattr(kernel, "shell", None)
    if stream is None or shell is None or not hasattr(kernel, "schedule_dispatch"):
        return None

    def deliver(frames) -> None:
        # What the stream's on_recv callback does with what it reads.
        kernel.schedule_dispatch(kernel.dispatch_shell, frames)

    return KernelPoller(kernel, shell, inbox=stream.socket, replies=stream, deliver=deliver)


class KernelPoller:
    """Handles pending widget messages from inside a running cell (see the module doc).

    ``inbox`` is the socket the main thread's shell messages arrive on, ``replies``
    what shell handlers answer on, ``deliver(frames)`` hands a held message on.
    """

    def __init__(self, kernel, shell, *, inbox, replies, deliver: Callable[[list], None]) -> None:
        self._kernel = kernel
        self._shell = shell
        self._inbox = inbox
        self._replies = replies
        self._deliver = deliver
        self._held: list = []
        self._hooked = False
        self.handled = 0

    def poll(self) -> int:
        """Handle every pending comm message now and hold the rest; returns how many
        comm messages were handled. Main thread only."""
        import zmq

        if threading.current_thread() is not threading.main_thread():
            return 0
        handled = 0
        while True:
            try:
                frames = self._inbox.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            if self._msg_type(frames) in _IMMEDIATE:
                self._dispatch_now(frames)
                handled += 1
            else:
                self._hold(frames)
        self.handled += handled
        return handled

    def _msg_type(self, frames) -> str | None:
        session = self._kernel.session
        try:
            _, rest = session.feed_identities(frames, copy=False)
            return session.deserialize(rest, content=False, copy=False)["header"]["msg_type"]
        except Exception:  # noqa: BLE001 - not a message we may handle here (e.g. "stop aborting")
            return None

    def _dispatch_now(self, frames) -> None:
        kernel = self._kernel
        session = kernel.session
        idents, rest = session.feed_identities(frames, copy=False)
        msg = session.deserialize(rest, content=True, copy=False)
        # What ipykernel does for a comm that arrives while a cell holds the shell.
        parent = kernel.get_parent("shell")
        ident = _shell_parent_ident(kernel)
        kernel.set_parent(idents, msg, channel="shell")
        try:
            handler = kernel.shell_handlers.get(msg["header"]["msg_type"])
            if handler is not None:
                handler(self._replies, idents, msg)
        except Exception:  # noqa: BLE001 - as ipykernel: a failing handler is logged, not raised
            kernel.log.error("Exception in comm handler (slacknb poll)", exc_info=True)
        finally:
            kernel.set_parent(ident, parent, channel="shell")

    def _hold(self, frames) -> None:
        self._held.append(frames)
        if not self._hooked:
            self._hooked = True
            self._shell.events.register("post_run_cell", self._cell_ended)

    def _cell_ended(self, *args, **kwargs) -> None:
        self._shell.events.unregister("post_run_cell", self._cell_ended)
        self._hooked = False
        import zmq

        # Everything already waiting joins the held ones, in order: the replay then
        # runs before anything that arrives later.
        while True:
            try:
                self._held.append(self._inbox.recv_multipart(zmq.NOBLOCK, copy=False))
            except zmq.Again:
                break
        held, self._held = self._held, []
        for frames in held:
            self._deliver(frames)


def _shell_parent_ident(kernel):
    """The identity replies to the current shell request go to."""
    getter = getattr(kernel, "_get_shell_context_var", None)
    if getter is not None:  # ipykernel 7 keeps it per context
        return getter(kernel._shell_parent_ident)
    return kernel._parent_ident["shell"]
