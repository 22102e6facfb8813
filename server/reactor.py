"""Twisted's asyncio reactor, writing in the loop turn that produced the data.

daphne runs on Twisted's ``AsyncioSelectorReactor``. A Twisted transport's ``write()`` only
buffers the data and asks the reactor to watch the socket for writability (``addWriter``:
``epoll_ctl`` ADD); the data leaves when epoll next reports the socket writable, after which
``doWrite`` stops watching it (``epoll_ctl`` DEL). Every response and every WebSocket message
therefore costs two extra system calls and a trip through ``epoll_wait`` before it is sent.

:class:`EagerWriteReactor` flushes instead in a ``call_soon`` callback: the writes of one loop
turn (an HTTP response's head and body, several WebSocket frames) are still sent together, by
the same ``doWrite``, but right after that turn. Only a socket whose buffer is full (``doWrite``
left data behind) is registered with epoll, as before, to be finished when it drains.

It also calls each ready socket's ``doRead``/``doWrite`` without ``callWithLogger``, which
Twisted wraps around every event to set a log prefix for its legacy ``twisted.python.log``
observers; daphne logs through the standard library, which never sees that prefix. Errors are
still caught and logged.
"""

import asyncio
import errno
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeAlias

from twisted.internet import asyncioreactor
from twisted.internet.interfaces import IReadDescriptor, IWriteDescriptor

# A reader or writer (an IReadDescriptor or IWriteDescriptor). Those are zope interfaces, whose
# methods mypy cannot call without the mypy-zope plugin, and Twisted's own tables of them are
# annotated with classes for keys: Any, as for the other libraries without usable types.
Descriptor: TypeAlias = Any


class EagerWriteReactor(asyncioreactor.AsyncioSelectorReactor):
    """``AsyncioSelectorReactor`` that sends buffered writes without waiting for epoll."""

    def __init__(self, eventloop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(eventloop)
        # Writers with a flush scheduled and not (yet) watched by epoll.
        self._flushes_due: set[Descriptor] = set()
        # The writer whose doWrite is running, and whether it asked to stop writing (all sent).
        self._flushing: Descriptor | None = None
        self._flushed_all = False

    def _selectable_ready(self, selectable: Descriptor, read: bool) -> None:
        try:
            self._readOrWrite(selectable, read)
        except Exception:
            # _readOrWrite catches doRead's and doWrite's errors; this is for its own.
            self._log.failure("while handling {selectable}", selectable=selectable)

    def addReader(self, reader: Descriptor) -> None:
        # Twisted's addReader, registering _selectable_ready instead of callWithLogger.
        if reader in self._readers or reader in self._continuousPolling._readers:
            return
        fd = reader.fileno()
        try:
            self._asyncioEventloop.add_reader(fd, self._selectable_ready, reader, True)
            self._readers[reader] = fd
        except OSError as e:
            self._unregisterFDInAsyncio(fd)
            if e.errno == errno.EPERM:
                # epoll(7) refuses some descriptors, e.g. regular files: poll those.
                self._continuousPolling.addReader(reader)
            else:
                raise

    def _watch_writer(self, writer: Descriptor) -> None:
        # Twisted's addWriter, registering _selectable_ready instead of callWithLogger.
        fd = writer.fileno()
        try:
            self._asyncioEventloop.add_writer(fd, self._selectable_ready, writer, False)
            self._writers[writer] = fd
        except PermissionError:
            self._unregisterFDInAsyncio(fd)
            self._continuousPolling.addWriter(writer)
        except BrokenPipeError:
            self._unregisterFDInAsyncio(fd)
        except BaseException:
            self._unregisterFDInAsyncio(fd)
            raise

    def addWriter(self, writer: Descriptor) -> None:
        if writer in self._flushes_due or writer is self._flushing:
            if writer is self._flushing:
                # Written to again from inside its own doWrite (a producer resumed): flush again.
                self._flushed_all = False
            return
        if writer in self._writers or self._continuousPolling.isWriting(writer):
            return
        self._flushes_due.add(writer)
        self._asyncioEventloop.call_soon(self._flush, writer)

    def removeWriter(self, writer: Descriptor) -> None:
        if writer is self._flushing:
            self._flushed_all = True
            return
        if writer in self._flushes_due:
            self._flushes_due.discard(writer)
            return
        super().removeWriter(writer)

    def _flush(self, writer: Descriptor) -> None:
        if writer not in self._flushes_due:
            return  # stopped or disconnected meanwhile
        self._flushes_due.discard(writer)
        self._flushing, self._flushed_all = writer, False
        try:
            # What the reactor runs when epoll reports the socket writable: doWrite, and on a
            # failure the same disconnection.
            self._selectable_ready(writer, False)
        finally:
            self._flushing = None
        if not self._flushed_all and writer.fileno() != -1:
            # The kernel's buffer is full: wait for writability like the stock reactor.
            self._watch_writer(writer)

    def getWriters(self) -> list[IWriteDescriptor]:
        return super().getWriters() + list(self._flushes_due)

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        self._flushes_due.clear()
        return super().removeAll()


def install() -> None:
    """Install :class:`EagerWriteReactor` as Twisted's reactor, before ``daphne.server`` installs
    the stock one on import (it keeps an asyncio reactor that is already installed). Does nothing
    when a reactor is already installed."""
    if "twisted.internet.reactor" in sys.modules:
        return
    loop = asyncio.new_event_loop()
    if "ASGI_THREADS" in os.environ:
        # What daphne.server does for its own loop.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=int(os.environ["ASGI_THREADS"])))
    from twisted.internet.main import installReactor

    installReactor(EagerWriteReactor(loop))
