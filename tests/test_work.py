"""Queries and grading (MODEL.md section 5)."""

import numpy as np

from world import work


def test_queries_average_the_sample_size():
    rng = np.random.default_rng(0)
    q = work.sample_queries(rng, 200, 100, rounds=10, sample_size=25)
    assert q.shape == (200, 100)
    assert abs(q.sum(axis=1).mean() / 10 - 25) < 0.5  # per round, per validator


def test_inferior_grader_cannot_tell_superior_answers_apart():
    rng = np.random.default_rng(1)
    quality = np.array([0.6, 0.8, 0.95])
    q = np.full((2, 3), 10_000)
    s = work.perceived_scores(rng, quality, np.array([0.7, 1.0]), np.array([0.01, 0.01]), q)
    assert abs(s[0, 1] - s[0, 2]) < 0.01  # capability 0.7 sees both as 0.7
    assert s[1, 2] - s[1, 1] > 0.1  # a capable grader ranks them
    assert np.isnan(work.perceived_scores(rng, quality, np.ones(1), np.ones(1),
                                          np.zeros((1, 3), int))).all()


def test_duplicates_detected_only_by_dedup_validators_and_only_for_copies():
    rng = np.random.default_rng(2)
    key = np.array([-1, 7, 7, 7, -1])
    det = work.duplicate_detection(rng, key, np.array([True, False]), rounds=30, sample_size=5)
    assert det[0, 1:4].all() and not det[0, [0, 4]].any()
    assert not det[1].any()


def test_ema_only_moves_where_observed():
    ema = np.array([[0.5, 0.5], [0.2, 0.0]])
    scores = np.array([[1.0, 0.9], [0.6, 1.0]])
    observed = np.array([[True, False], [True, True]])
    work.blend_ema(ema, scores, observed, np.array([0.25, 0.5]))
    assert np.allclose(ema, [[0.625, 0.5], [0.4, 0.5]])


def test_weights_from_scores_topk_and_sharpen():
    s = np.array([[0.1, 0.4, 0.5, 0.0]])
    w = work.weights_from_scores(s, np.array([1.0]), np.array([2]))
    assert np.allclose(w, [[0, 4 / 9, 5 / 9, 0]])
    w2 = work.weights_from_scores(s, np.array([2.0]), np.array([0]))
    assert np.allclose(w2.sum(), 1) and w2[0, 2] > 5 / 10
    assert (work.weights_from_scores(np.zeros((1, 3)), np.ones(1), np.zeros(1)) == 0).all()
