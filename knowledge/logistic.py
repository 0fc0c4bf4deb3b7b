"""Multinomial logistic regression with sample weights, fitted by knowledge/lbfgs.py.

The same model as scikit-learn's ``LogisticRegression(C=c).fit(x, y, sample_weight=s)`` with
the lbfgs solver (sklearn/linear_model/_logistic.py and _linear_loss.py): it minimises

    f(W, b) = sum_i s_i (logsumexp(z_i) - z_i[y_i]) / S  +  |W|^2 / (2 C S),   z_i = x_i W + b

where S is the sum of the sample weights; the intercept b is not penalised. Starting from zero,
as scikit-learn does, every class's weights and intercepts stay summed to zero along the way
(each gradient's are), which pins the otherwise free shift of the intercepts. It stops as
scikit-learn's call to L-BFGS-B does: the largest gradient component <= tol, or a relative
decrease <= 64 machine epsilons, or max_iter iterations.

Unlike scikit-learn, two classes are fitted as a multinomial too (one column per class), so the
model always gives one score per class; and the features may be given as blocks side by side
(a dense embedding block beside sparse n-gram blocks), which multiplies the dense block with
BLAS instead of as a sparse matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from knowledge.lbfgs import EPS, Minimum, minimize

Block = np.ndarray | sp.csr_matrix | sp.csr_array


class Design:
    """Feature blocks side by side, as one matrix for the two products the fit needs."""

    def __init__(self, blocks: Block | Sequence[Block]) -> None:
        if isinstance(blocks, np.ndarray | sp.sparray | sp.spmatrix):
            blocks = [blocks]
        self._blocks: list[np.ndarray | sp.csr_matrix] = []
        self._transposed: list[np.ndarray | sp.csr_matrix] = []
        for block in blocks:
            if sp.issparse(block):
                csr = sp.csr_matrix(block, dtype=np.float64)
                self._blocks.append(csr)
                # x.T @ g as a CSR product (rows of the transpose), not scipy's CSC one.
                self._transposed.append(csr.T.tocsr())
            else:
                dense = np.ascontiguousarray(block, dtype=np.float64)
                self._blocks.append(dense)
                self._transposed.append(dense.T)
        self.n_rows = self._blocks[0].shape[0]
        if any(b.shape[0] != self.n_rows for b in self._blocks):
            raise ValueError("feature blocks have different numbers of rows")
        self._edges = np.cumsum([0, *(b.shape[1] for b in self._blocks)])
        self.n_columns = int(self._edges[-1])

    def times(self, weights: np.ndarray) -> np.ndarray:
        """x @ weights for weights of shape (columns, k)."""
        out = np.zeros((self.n_rows, weights.shape[1]))
        for block, start, end in zip(self._blocks, self._edges, self._edges[1:], strict=False):
            out += block @ weights[start:end]
        return out

    def transposed_times(self, values: np.ndarray, out: np.ndarray) -> None:
        """out[:] = x.T @ values for values of shape (rows, k)."""
        for block_t, start, end in zip(self._transposed, self._edges, self._edges[1:],
                                       strict=False):
            out[start:end] = block_t @ values


class LogisticObjective:
    """f(params) and its gradient; params are (W; b) flattened, shape ((features + 1) * k,)."""

    def __init__(self, design: Design, y: np.ndarray, n_classes: int, c: float,
                 sample_weight: np.ndarray | None = None) -> None:
        self.design, self.n_classes = design, n_classes
        self._y = np.asarray(y, dtype=np.intp)
        weight = (np.ones(design.n_rows) if sample_weight is None
                  else np.asarray(sample_weight, dtype=np.float64))
        total = float(weight.sum())
        self._share = weight / total  # s_i / S
        self._l2 = 1.0 / (c * total)
        self._rows = np.arange(design.n_rows)

    @property
    def size(self) -> int:
        """Length of the flattened parameter vector."""
        return (self.design.n_columns + 1) * self.n_classes

    def __call__(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        table = params.reshape(-1, self.n_classes)
        weights, intercept = table[:-1], table[-1]
        z = self.design.times(weights)
        z += intercept
        z -= z.max(axis=1, keepdims=True)  # exp never overflows; the loss is shift-invariant
        exp = np.exp(z)
        total = exp.sum(axis=1)
        loss = np.log(total) - z[self._rows, self._y]
        value = float(self._share @ loss) + 0.5 * self._l2 * float(np.vdot(weights, weights))
        # d loss / d z = softmax(z) - onehot(y), weighted by s_i / S.
        exp *= (self._share / total)[:, None]
        exp[self._rows, self._y] -= self._share
        gradient = np.empty_like(table)
        self.design.transposed_times(exp, gradient[:-1])
        gradient[:-1] += self._l2 * weights
        gradient[-1] = exp.sum(axis=0)
        return value, gradient.ravel()


@dataclass(frozen=True)
class LogisticModel:
    """Fitted weights (features x classes) and intercepts, and how the fit ended."""

    coef: np.ndarray
    intercept: np.ndarray
    fit: Minimum

    def decision_function(self, x: Block | Sequence[Block]) -> np.ndarray:
        """Class scores (logits) per row."""
        return Design(x).times(self.coef) + self.intercept

    def predict_proba(self, x: Block | Sequence[Block]) -> np.ndarray:
        """Class probabilities per row."""
        z = self.decision_function(x)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


def fit_logistic(x: Block | Sequence[Block], y: np.ndarray, *, c: float,
                 sample_weight: np.ndarray | None = None, n_classes: int | None = None,
                 tol: float = 1e-4, max_iter: int = 100) -> LogisticModel:
    """Fit the model to x (rows, or blocks of columns side by side) and labels 0..k-1."""
    y = np.asarray(y)
    k = int(y.max()) + 1 if n_classes is None else n_classes
    if k < 2:
        raise ValueError("logistic regression needs at least two classes")
    objective = LogisticObjective(Design(x), y, k, c, sample_weight)
    found = minimize(objective, np.zeros(objective.size), gtol=tol, max_iter=max_iter,
                     ftol=64 * EPS)
    table = found.x.reshape(-1, k)
    return LogisticModel(np.ascontiguousarray(table[:-1]), table[-1].copy(), found)
