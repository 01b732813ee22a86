import math

import numpy as np

from fervision.engine.scheduler import RecognitionScheduler
from fervision.engine.smoothing import ProbabilitySmoother


def test_smoothing_uses_time_not_frames():
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    fast, slow = ProbabilitySmoother(tau_s=1.0), ProbabilitySmoother(tau_s=1.0)
    fast.update(1, a, 0.0)
    slow.update(1, a, 0.0)
    for k in range(1, 11):  # ten updates 0.1 s apart ...
        p_fast = fast.update(1, b, 0.1 * k)
    p_slow = slow.update(1, b, 1.0)  # ... equal one update 1 s later
    assert np.allclose(p_fast, p_slow, atol=1e-6)
    assert np.isclose(p_slow[1], 1 - math.exp(-1.0), atol=1e-6)
    assert np.isclose(p_slow.sum(), 1.0)


def test_smoothing_per_student_and_zero_tau():
    s = ProbabilitySmoother(tau_s=0.5)
    s.update(1, np.array([1.0, 0.0]), 0.0)
    assert np.allclose(s.update(2, np.array([0.0, 1.0]), 0.0), [0, 1])
    assert s.get(3) is None
    assert np.allclose(ProbabilitySmoother(0).update(1, np.array([0.3, 0.7]), 5.0), [0.3, 0.7])


def test_a_value_not_read_keeps_the_last_one_and_a_first_value_is_taken():
    s = ProbabilitySmoother(tau_s=1.0)
    assert np.isnan(s.update(1, np.array([np.nan, 2.0]), 0.0)[0])  # no first yaw yet
    out = s.update(1, np.array([10.0, np.nan]), 1.0)  # yaw read at last; the other not this time
    assert out.tolist() == [10.0, 2.0]
    out = s.update(1, np.array([20.0, 4.0]), 2.0)
    assert np.allclose(out, [10 + 10 * (1 - math.exp(-1)), 2 + 2 * (1 - math.exp(-1))])


def test_scheduler_round_robin_keeps_every_label_fresh():
    sched = RecognitionScheduler(max_per_frame=3, max_age_s=1.0)
    ids = np.arange(1, 31)  # 30 students, 25 fps
    last = {}
    for f in range(250):
        t = f / 25
        for i in sched.select(ids, t):
            last[int(ids[i])] = t
        if t >= 1.0:
            assert max(t - last[s] for s in ids.tolist()) <= 1.0
    assert len(last) == 30


def test_scheduler_without_budget_classifies_everything():
    assert RecognitionScheduler().select(np.array([1, -1, 3]), 0.0).tolist() == [0, 1, 2]


def test_scheduler_with_zero_budget_refreshes_once_per_max_age():
    sched = RecognitionScheduler(max_per_frame=0, max_age_s=1.0)
    ids = np.arange(1, 21)
    counts = [len(sched.select(ids, f / 25)) for f in range(100)]
    assert counts[0] == 20 and sum(counts) == 20 * 4  # everyone once a second, in batches
    assert sum(c > 0 for c in counts) == 4


def test_scheduler_merges_students_who_arrived_at_different_moments_into_one_batch():
    sched = RecognitionScheduler(max_per_frame=0, max_age_s=1.0, coalesce=0.8)
    batches, last = [], {}
    for f in range(100):  # student 1 from frame 0, student 2 from frame 3 (25 fps)
        t = f / 25
        ids = np.array([1, 2]) if f >= 3 else np.array([1])
        chosen = sched.select(ids, t)
        for i in chosen:
            last[int(ids[i])] = t
        if len(chosen):
            batches.append(len(chosen))
        assert all(t - last[s] <= 1.0 for s in ids.tolist())
    assert batches == [1, 1, 2, 2, 2]  # after the first refresh they share one batch a second
