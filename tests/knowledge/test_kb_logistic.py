"""Logistic regression and its L-BFGS: the objective, the optimum, and scikit-learn's answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from knowledge.content import KnowledgeBase
from knowledge.lbfgs import minimize
from knowledge.logistic import Design, LogisticObjective, fit_logistic

TIGHT = {"tol": 1e-10, "max_iter": 5000}


def problem(seed: int = 0, n: int = 90, features: int = 6, classes: int = 3
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping Gaussian classes (so the optimum is finite) and uneven sample weights."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, features)) + 0.8 * rng.normal(size=(classes, features))[y]
    return x, y, rng.uniform(0.2, 3.0, n)


def test_rosenbrock_needs_the_line_search_and_reaches_the_minimum() -> None:
    def rosenbrock(p: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = p
        value = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        return value, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])

    found = minimize(rosenbrock, np.array([-1.2, 1.0]), gtol=1e-8, max_iter=500, ftol=0.0)
    assert (found.converged, found.reason) == (True, "gtol")
    assert found.x == pytest.approx([1.0, 1.0], abs=1e-6)
    assert found.evaluations > found.iterations  # some steps were shortened or lengthened


def test_ill_conditioned_quadratic() -> None:
    """Curvatures 1 to 100: SciPy's L-BFGS-B takes 118 iterations (129 evaluations) here."""
    scales = np.logspace(0, 2, 50)
    found = minimize(lambda p: (0.5 * float(scales @ p**2), scales * p), np.ones(50),
                     gtol=1e-9, max_iter=1000, ftol=0.0)
    assert (found.converged, found.iterations < 150) == (True, True)
    assert np.abs(found.x).max() < 1e-9


def test_gradient_matches_finite_differences() -> None:
    x, y, weight = problem(1, n=40, features=5, classes=4)
    blocks = [x[:, :2], sp.csr_matrix(np.where(np.abs(x[:, 2:]) > 0.7, x[:, 2:], 0.0))]
    objective = LogisticObjective(Design(blocks), y, 4, c=2.0, sample_weight=weight)
    params = np.random.default_rng(2).normal(size=objective.size)
    value, gradient = objective(params)
    h = 1e-6
    numeric = np.empty_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        numeric[i] = (objective(params + step)[0] - objective(params - step)[0]) / (2 * h)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)
    # The value itself: weighted mean cross-entropy plus |W|^2 / (2 C S), intercept unpenalised.
    table = params.reshape(-1, 4)
    z = np.hstack([x[:, :2], blocks[1].toarray()]) @ table[:-1] + table[-1]
    loss = np.log(np.exp(z).sum(axis=1)) - z[np.arange(40), y]
    expected = (weight @ loss + (table[:-1] ** 2).sum() / (2 * 2.0)) / weight.sum()
    assert value == pytest.approx(expected, rel=1e-12)


def test_integer_sample_weights_equal_repeated_rows() -> None:
    x, y, _ = problem(3)
    counts = np.random.default_rng(4).integers(1, 4, len(y))
    weighted = fit_logistic(x, y, c=0.7, sample_weight=counts.astype(float), **TIGHT)
    repeated = fit_logistic(np.repeat(x, counts, axis=0), np.repeat(y, counts), c=0.7, **TIGHT)
    np.testing.assert_allclose(weighted.coef, repeated.coef, atol=1e-6)
    np.testing.assert_allclose(weighted.intercept, repeated.intercept, atol=1e-6)


def test_intercept_is_not_penalised() -> None:
    """With the weights regularised away, the intercepts alone give the weighted class shares."""
    x, y, weight = problem(5, classes=4)
    model = fit_logistic(x, y, c=1e-9, sample_weight=weight, **TIGHT)
    shares = np.bincount(y, weights=weight) / weight.sum()
    assert np.abs(model.coef).max() < 1e-6
    np.testing.assert_allclose(model.predict_proba(x[:1])[0], shares, atol=1e-6)
    assert model.intercept.sum() == pytest.approx(0.0, abs=1e-9)  # pinned as scikit-learn's


def test_blocks_side_by_side_are_one_matrix() -> None:
    x, y, weight = problem(6)
    stacked = fit_logistic(sp.csr_matrix(x), y, c=3.0, sample_weight=weight, **TIGHT)
    blocks = fit_logistic([x[:, :2], sp.csr_matrix(x[:, 2:])], y, c=3.0, sample_weight=weight,
                          **TIGHT)
    np.testing.assert_allclose(blocks.coef, stacked.coef, atol=1e-7)


def test_same_optimum_as_sklearn() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    x, y, weight = problem(7, n=120, features=8, classes=4)
    theirs = linear_model.LogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit(
        x, y, sample_weight=weight)
    ours = fit_logistic(x, y, c=2.0, sample_weight=weight, **TIGHT)
    np.testing.assert_allclose(ours.coef, theirs.coef_.T, atol=1e-5)
    np.testing.assert_allclose(ours.intercept, theirs.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-6)
    assert (ours.predict_proba(x).argmax(axis=1) == theirs.predict(x)).all()


def test_kernel_fit_reaches_sklearns_objective_on_the_demo_kb(demo_kb: KnowledgeBase) -> None:
    """The engine's kernel problem for the demo KB: as low an objective as scikit-learn's fit."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    from knowledge.engine import KERNEL_TOL, LR_C, Engine
    from tests.knowledge.conftest import HashingEncoder

    captured: dict[str, np.ndarray] = {}

    def capture(x: np.ndarray, y: np.ndarray, **options: object) -> object:
        captured.update(x=x, y=y, weight=options["sample_weight"])  # type: ignore[dict-item]
        return fit_logistic(x, y, **options)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("knowledge.engine.fit_logistic", capture)
        Engine.build(demo_kb, HashingEncoder())
    x, y, weight = captured["x"], captured["y"], captured["weight"]
    ours = fit_logistic(x, y, c=LR_C, sample_weight=weight, tol=KERNEL_TOL, max_iter=3000)
    theirs = linear_model.LogisticRegression(C=LR_C, max_iter=3000).fit(
        x, y, sample_weight=weight)
    objective = LogisticObjective(Design(x), y, int(y.max()) + 1, LR_C, weight)
    their_value, _ = objective(np.vstack([theirs.coef_.T, theirs.intercept_]).ravel())
    assert ours.fit.converged
    assert ours.fit.value <= their_value
    same = ours.predict_proba(x).argmax(axis=1) == theirs.predict(x)
    assert same.mean() > 0.99


def test_two_classes_get_a_column_each() -> None:
    """scikit-learn fits two classes as one binomial column; ours is the symmetric multinomial.

    Its two columns are w/2 and -w/2, so it penalises |w|^2 / 2: scikit-learn's binomial at 2C.
    """
    x, y, weight = problem(8, classes=2)
    ours = fit_logistic(x, y, c=0.5, sample_weight=weight, **TIGHT)
    assert ours.coef.shape == (x.shape[1], 2)
    np.testing.assert_allclose(ours.coef[:, 0], -ours.coef[:, 1], atol=1e-9)
    linear_model = pytest.importorskip("sklearn.linear_model")
    theirs = linear_model.LogisticRegression(C=1.0, tol=1e-10, max_iter=5000).fit(
        x, y, sample_weight=weight)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), atol=1e-6)
