"""One process bidding for a study board's lease on a journal-file storage, for tests/frameworks/test_lease.py.

Usage: python lease_bidder.py JOURNAL STUDY START_AT HOLD OUT

Waits until wall-clock START_AT (so all bidders start at once), then bids until it has held
the lease once for HOLD seconds (renewing it), releases it, and writes its holding interval
(wall clock) to OUT as JSON.
"""

import json
import sys
import threading
import time
import uuid

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from slacknb.frameworks.lease import Lease

journal, name, start_at, hold, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(journal)))
lease = Lease(lambda: study.user_attrs, study.set_user_attr, me=uuid.uuid4().hex,
              settle=0.3, claim_life=1.0, term=3.0, renew=0.5)
pause = threading.Event()
pause.wait(max(0.0, start_at - time.time()))
rounds = 0
while True:
    rounds += 1
    if lease.acquire():
        break
    pause.wait(0.1)
began = time.time()
while time.time() - began < hold:
    assert lease.keep(shown=0), "lost the lease while holding it"
    pause.wait(0.1)
ended = time.time()
lease.release(shown=0)
with open(out, "w") as f:
    json.dump({"began": began, "ended": ended, "rounds": rounds}, f)
