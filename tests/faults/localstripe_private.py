"""localstripe with its store in a file of ours: `python localstripe_private.py STORE --port P`.

localstripe keeps its objects in `/tmp/localstripe.pickle`, shared by every copy on the machine;
here the store is a private file, loaded at start when it exists, so a killed emulator comes back
with the customers, cards and PaymentIntents it had."""

import pickle
import sys

from localstripe import resources, server

STORE = sys.argv.pop(1)


def _load(self):
    try:
        with open(STORE, "rb") as f:
            old = pickle.load(f)  # noqa: S301 - our own file
    except (FileNotFoundError, EOFError):
        return
    self.clear()
    self.update(old)


def _dump(self):
    with open(STORE + ".tmp", "wb") as f:
        pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
    import os

    os.replace(STORE + ".tmp", STORE)


resources.Store.try_load_from_disk = _load
resources.Store.dump_to_disk = _dump

if __name__ == "__main__":
    server.start()
