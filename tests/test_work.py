"""The work pool admits what it can start or queue, and refuses the rest without raising."""

import threading

from bot.work import Admission, WorkPool


def test_work_beyond_the_workers_is_queued_and_beyond_the_queue_refused():
    pool = WorkPool(workers=1, queue_limit=1)
    release = threading.Event()

    admissions = [pool.submit(release.wait) for _ in range(3)]

    assert admissions == [Admission.STARTED, Admission.QUEUED, Admission.REFUSED]
    release.set()
    pool.close(wait=True)


def test_a_closed_pool_refuses_and_finishes_what_it_admitted():
    pool = WorkPool(workers=2, queue_limit=2)
    done = []
    pool.submit(done.append, "admitted")

    pool.close(wait=True)

    assert pool.submit(done.append, "late") is Admission.REFUSED
    assert done == ["admitted"]


def test_work_arriving_while_the_pool_shuts_down_is_refused_not_raised():
    pool = WorkPool(workers=1, queue_limit=0)
    pool._executor.shutdown(wait=True)  # SIGTERM's shutdown, just after submit's check

    assert pool.submit(print, "never") is Admission.REFUSED
    assert pool.submit(print, "never") is Admission.REFUSED  # the slot was given back
