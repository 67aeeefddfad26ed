"""A launch of Harken's single-instance code alone, for tests that start several at once.

``python -m tests.support.instance_probe`` prints ``ready``, waits for a line on
stdin (the test's starting gun, so that all launches race for real), then does
what ``harken`` does at start-up: claim the instance or activate the running
one. The first prints ``first`` and then ``activated`` for each later launch
that reached it, until its stdin closes; any other prints ``second`` and exits.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QCoreApplication, QMetaObject, Qt

from app.desktop.single_instance import InstanceServer, claim_or_activate


def main() -> int:
    app = QCoreApplication(sys.argv[:1])
    print("ready", flush=True)
    sys.stdin.readline()
    lock = claim_or_activate(wait_s=20)
    if lock is None:
        print("second", flush=True)
        return 0
    server = InstanceServer(lambda: print("activated", flush=True))
    print("first", flush=True)

    def quit_when_stdin_closes() -> None:
        sys.stdin.read()
        QMetaObject.invokeMethod(app, "quit", Qt.ConnectionType.QueuedConnection)

    threading.Thread(target=quit_when_stdin_closes, daemon=True).start()
    app.exec()
    server.close()
    lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
