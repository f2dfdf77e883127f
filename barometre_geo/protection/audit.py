"""Fast exact disclosure audit used by the protection (linked tables).

A reader combining published figures linearly learns ``Σ_{i ∈ G} y_i`` for a
group ``G`` of respondents exactly when ``1_G`` lies in the row space of the
published cells × respondents matrix ``M``, i.e. when ``Σ_{i ∈ G} z_i = 0``
for every ``z`` of its null space. With a few *generic* (random) null vectors
``z``, that test is exact with probability one: a group that is not
determined has a non-zero sum for almost every ``z``. Candidates are checked
on all samples, so a chance coincidence on one of them is discarded.

Respondents that no published cell tells apart (same cells: an *atom*) are
merged: a determined group is a union of atoms. The null space is sampled
through the territorial hierarchy (nested dissection): rows of the levels up to
the département first (their connected components are a few départements at
most), then the région rows, then the zones and France. Each stage only
handles small dense matrices: the null basis of a component is carried up as
a basis of its children's null spaces, and the last stage draws the samples,
so the cost grows with the number of territories, not with its square.

:func:`small_groups` then finds every union of at most four atoms holding
fewer than ``k`` respondents whose sum is zero (meet-in-the-middle on sorted
sums); :func:`recoverable` tells which given sets (hidden cells) are
determined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NullSampler", "NullSamples", "atoms", "null_samples", "recoverable", "small_groups"]

N_SAMPLES = 3
_TOL = 1e-8


@dataclass(frozen=True)
class NullSamples:
    """Random null vectors of a rows × atoms matrix (see :func:`null_samples`).

    ``z`` (atoms × samples) are generic null vectors; ``touched`` marks atoms
    in some row. ``unit`` groups the atoms into the components entering the
    last stage (−1: in no row) and ``local`` holds, per atom, generic vectors
    of the null space of the rows *restricted to its unit*: a determined group
    meets each unit in a set whose ``local`` rows sum to zero.
    """

    z: np.ndarray
    touched: np.ndarray
    unit: np.ndarray
    local: np.ndarray


def atoms(signature: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows with the same signature (one column per family of cells).

    Returns the atom of each row, the first row of each atom and its mass.

    Examples
    --------
    >>> import numpy as np
    >>> atom, first, mass = atoms(np.array([[0, 3], [0, 3], [1, -1]]))
    >>> bool(atom[0] == atom[1] != atom[2]), mass[atom].tolist()
    (True, [2, 2, 1])
    """
    n = len(signature)
    if signature.shape[1] == 0 or n == 0:
        return (
            np.zeros(n, dtype=np.int64),
            np.zeros(min(n, 1), np.int64),
            np.array([n][: min(n, 1)]),
        )
    # hash the rows (random 64-bit mix), then check that each group is one signature
    mix = np.random.default_rng(12345).integers(1, 2**62, size=signature.shape[1])
    with np.errstate(over="ignore"):
        h = (signature.astype(np.int64) + 1) @ mix
    _, first, atom, mass = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
    atom = atom.ravel().astype(np.int64)
    if not (signature == signature[first[atom]]).all():  # pragma: no cover - hash collision
        _, first, atom, mass = np.unique(
            signature, axis=0, return_index=True, return_inverse=True, return_counts=True
        )
        atom = atom.ravel().astype(np.int64)
    return atom, first.astype(np.int64), mass.astype(np.int64)


def _range_basis(m: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of a small dense matrix (pivoted QR)."""
    from scipy.linalg import lapack

    if not m.size:
        return np.zeros((m.shape[0], 0))
    qr, _, tau, _, info = lapack.dgeqp3(m)
    diag = np.abs(np.diag(qr))
    rank = int((diag > _TOL * max(1.0, float(diag.max(initial=0.0)))).sum())
    if info != 0 or rank == 0:
        return np.zeros((m.shape[0], 0)) if info == 0 else _range_basis_svd(m)
    q = lapack.dorgqr(qr[:, : min(m.shape)], tau)[0]
    return q[:, :rank]


def _range_basis_svd(m: np.ndarray) -> np.ndarray:  # pragma: no cover - LAPACK failure
    u, sv, _ = np.linalg.svd(m, full_matrices=False)
    return u[:, sv > _TOL * max(1.0, float(sv.max(initial=0.0)))]


def null_samples(
    matrix, stage: np.ndarray, *, n_samples: int = N_SAMPLES, seed: int = 0
) -> NullSamples:
    """Draw generic vectors of the null space of a sparse ``rows × atoms`` matrix.

    Shortcut for ``NullSampler(matrix, stage, ...).samples()``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(np.array([[1.0, 1, 1], [1, 1, 0]]))
    >>> ns = null_samples(m, np.array([0, 1]))
    >>> bool(np.abs(m @ ns.z).max() < 1e-12), bool(np.abs(ns.z[2]).max() < 1e-12)
    (True, True)
    """
    return NullSampler(matrix, stage, n_samples=n_samples, seed=seed).samples()


class NullSampler:
    """Random null vectors of a sparse ``rows × atoms`` matrix, by nested dissection.

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Published rows (cells, or weighted cells) × atoms; scale weighted
        rows to entries of order 1.
    stage : array of int
        Stage of each row (0: up to the département, 1: région, 2: zones and
        France); rows of one stage join few components of the previous one.
    n_samples, seed
        Number of random null vectors, and the seed of their draw.

    Notes
    -----
    Each component of a stage (the atoms joined by its rows, through the
    components of the previous stage) has a null space ``N`` for the rows
    seen so far. The part of ``N`` that no later row sees is sampled at once;
    only its complement — at most one dimension per later row touching the
    component — is carried up as a basis. A null vector is a sum of such
    independent parts, so the samples are generic.

    The stages below the last are computed once; :meth:`samples` runs the
    last one, and may leave out some of its rows (the null space of the
    remaining rows is sampled: the bases carried up then hold directions no
    remaining row sees, which the last stage samples freely).
    """

    def __init__(self, matrix, stage, *, n_samples: int = N_SAMPLES, seed: int = 0):
        from scipy import sparse

        m = sparse.csr_matrix(matrix, dtype=float)
        self.dense = m.toarray()
        self.stage = np.asarray(stage, dtype=np.int64)
        self.n_atoms = m.shape[1]
        self.n_samples = n_samples
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        n = self.n_atoms
        self.z = np.zeros((n, n_samples))
        self.unit = np.full(n, -1, dtype=np.int64)
        self.local = np.zeros((n, n_samples))
        self.next_unit = 0
        # live blocks: atoms and a basis of their null space (atoms × d); single atoms
        # are their own block (id < n_atoms, no basis)
        self.block_of = np.where(self.dense.any(axis=0), np.arange(n), -1)
        self.basis_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.next_id = n
        stages = np.unique(self.stage)
        self.last = int(stages[-1]) if len(stages) else 0
        for s in stages[:-1]:
            self._stage(np.flatnonzero(self.stage == s), self.dense[self.stage > s])
        self._calls = 0

    def samples(self, drop: np.ndarray | None = None) -> NullSamples:
        """Run the last stage (without the rows ``drop``) and return the samples."""
        saved = (
            self.z.copy(),
            self.unit.copy(),
            self.local.copy(),
            self.block_of.copy(),
            dict(self.basis_of),
            self.next_unit,
            self.next_id,
            self.rng,
        )
        self._calls += 1
        self.rng = np.random.default_rng([self.seed, self._calls])
        rows = np.flatnonzero(self.stage == self.last)
        if drop is not None:
            rows = np.setdiff1d(rows, drop)
        self._stage(rows, self.dense[:0])
        for b in list(self.basis_of):  # blocks no remaining row sees: free
            at, basis = self.basis_of.pop(b)
            self._finish(at, [(at, basis)])
            self.z[at] += basis @ self.rng.normal(size=(basis.shape[1], self.n_samples))
        kept = np.ones(len(self.stage), dtype=bool)
        if drop is not None:
            kept[drop] = False
        touched = self.dense[kept].any(axis=0)
        out = NullSamples(z=self.z, touched=touched, unit=self.unit, local=self.local)
        (
            self.z,
            self.unit,
            self.local,
            self.block_of,
            self.basis_of,
            self.next_unit,
            self.next_id,
            self.rng,
        ) = saved
        return out

    def _finish(self, at: np.ndarray, parts) -> None:
        """Record the units (children) of a component whose null space is complete."""
        for atoms_b, basis in parts:
            if basis is None:  # single atoms: each its own unit
                self.unit[atoms_b] = self.next_unit + np.arange(len(atoms_b))
                self.next_unit += len(atoms_b)
            else:
                self.unit[atoms_b] = self.next_unit
                self.next_unit += 1
        self.local[at] = self.z[at]
        self.block_of[at] = -1

    def _stage(self, rows: np.ndarray, later_m: np.ndarray) -> None:
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        n_atoms, block_of = self.n_atoms, self.block_of
        sub = self.dense[rows]
        r_idx, a_idx = np.nonzero(sub)
        live = block_of[a_idx] >= 0  # atoms finished earlier: no later row sees them
        r_idx, a_idx = r_idx[live], a_idx[live]
        ids, local = np.unique(block_of[a_idx], return_inverse=True)
        nb, nr = len(ids), len(rows)
        graph = sparse.coo_matrix(
            (np.ones(len(local)), (r_idx, nr + local.ravel())), shape=(nr + nb, nr + nb)
        )
        _, label = connected_components(graph, directed=False)
        row_label, block_label = label[:nr], label[nr:]
        for comp in np.unique(block_label):
            children = ids[block_label == comp]
            r = np.flatnonzero(row_label == comp)
            single = children[children < n_atoms]
            parts = [(single, None)] if len(single) else []
            parts += [self.basis_of.pop(int(b)) for b in children[children >= n_atoms]]
            at = np.concatenate([p[0] for p in parts])
            dims = [len(a) if b is None else b.shape[1] for a, b in parts]

            def lift(cols: np.ndarray, parts=parts, dims=dims) -> np.ndarray:
                """Map coefficients on the children's bases to atom values."""
                if len(parts) == 1 and parts[0][1] is None:
                    return cols
                out, off = [], 0
                for (_, basis), d in zip(parts, dims, strict=True):
                    piece = cols[off : off + d]
                    out.append(piece if basis is None else basis @ piece)
                    off += d
                return np.vstack(out)

            def restrict(rows_m: np.ndarray, parts=parts) -> np.ndarray:
                """Rows on the children's bases (rows × Σ d)."""
                cols = [rows_m[:, a] if b is None else rows_m[:, a] @ b for a, b in parts]
                return cols[0] if len(cols) == 1 else np.hstack(cols)

            mc = restrict(sub[r])
            lt = later_m[:, at]
            lt = restrict(later_m[lt.any(axis=1)])
            if not len(lt):  # final: its children are the local units
                self._finish(at, parts)
            # null space of the rows so far = the part no later row sees (sampled
            # now) ⊕ the projection of the later rows on it (carried up)
            q0 = _range_basis(mc.T)
            keep = _range_basis(lt.T - q0 @ (q0.T @ lt.T)) if len(lt) else q0[:, :0]
            g = self.rng.normal(size=(mc.shape[1], self.n_samples))
            g -= q0 @ (q0.T @ g) + keep @ (keep.T @ g)
            self.z[at] += lift(g)
            if len(lt):
                self.basis_of[self.next_id] = (at, lift(keep))
                block_of[at] = self.next_id
                self.next_id += 1


def _near(values: np.ndarray, targets: np.ndarray, eps: float):
    """Pairs (target index, value index) with ``|value − target| ≤ eps``."""
    order = np.argsort(values, kind="stable")
    sv = values[order]
    lo = np.searchsorted(sv, targets - eps, side="left")
    hi = np.searchsorted(sv, targets + eps, side="right")
    cnt = hi - lo
    t = np.repeat(np.arange(len(targets)), cnt)
    if not len(t):
        return t, t
    offs = np.arange(len(t)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return t, order[np.repeat(lo, cnt) + offs]


def _zero_sets(
    z: np.ndarray, mass: np.ndarray, k: int, max_atoms: int, *, unique: bool = True
) -> np.ndarray:
    """Every set of 1 to ``max_atoms`` rows of ``z`` summing to zero, of mass below ``k``.

    Meet in the middle on the first column (sorted sums), candidates checked
    on every column. Returns an (n_sets × max_atoms) array of row indices
    padded with −1 (with repeats unless ``unique``).
    """
    n = len(z)
    out = []
    if not n:
        return np.full((0, max_atoms), -1)
    key = z[:, 0]
    low = int(mass.min())

    def keep(groups: np.ndarray) -> None:
        if not len(groups):
            return
        groups = np.sort(groups, axis=1)
        ok = (np.diff(groups, axis=1) > 0).all(axis=1) & (mass[groups].sum(axis=1) < k)
        groups = groups[ok]
        ok = (np.abs(z[groups].sum(axis=1)) <= _TOL * groups.shape[1]).all(axis=1)
        if not ok.any():
            return
        groups = np.unique(groups[ok], axis=0) if unique else groups[ok]
        pad = np.full((len(groups), max_atoms - groups.shape[1]), -1)
        out.append(np.hstack([groups, pad]))

    keep(np.flatnonzero(np.abs(key) <= _TOL)[:, None])
    if max_atoms >= 2 and n > 1:
        t, v = _near(key, -key, 2 * _TOL)
        keep(np.stack([t, v], axis=1)[t < v])
    if max_atoms >= 3 and n > 2 and 3 * low < k:
        iu, ju = np.triu_indices(n, 1)
        light = mass[iu] + mass[ju] + low < k
        iu, ju = iu[light], ju[light]
        pair = key[iu] + key[ju]
        t, v = _near(key, -pair, 3 * _TOL)
        keep(np.stack([iu[t], ju[t], v], axis=1))
        if max_atoms >= 4 and 4 * low < k:
            ok = (mass[iu] + mass[ju] + 2 * low < k) & (pair >= -4 * _TOL)
            neg = (mass[iu] + mass[ju] + 2 * low < k) & (pair <= 4 * _TOL)
            t, v = _near(pair[neg], -pair[ok], 4 * _TOL)
            a, b = np.flatnonzero(ok)[t], np.flatnonzero(neg)[v]
            keep(np.stack([iu[a], ju[a], iu[b], ju[b]], axis=1))
    if not out:
        return np.full((0, max_atoms), -1)
    if not unique:
        return np.vstack(out)
    return np.unique(np.vstack(out), axis=0) if len(out) > 1 else out[0]


def small_groups(
    ns: NullSamples, mass: np.ndarray, k: int, *, max_atoms: int = 4
) -> list[tuple[int, ...]]:
    """Unions of at most ``max_atoms`` atoms, holding 1 to ``k − 1`` respondents, determined.

    A union is determined when its rows of ``ns.z`` sum to zero in every
    sample. Its part in each unit is then determined by the unit's own rows
    (``ns.local`` sums to zero): atoms in no such part are left out before
    the search over the whole table. Returns the minimal groups, as sorted
    tuples of atom indices.

    Examples
    --------
    Atom 2 is the difference of the two cells ``{0, 1, 2}`` and ``{0, 1}``:

    >>> import numpy as np
    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(np.array([[1.0, 1, 1], [1, 1, 0]]))
    >>> small_groups(null_samples(m, np.zeros(2, int)), np.array([4, 4, 1]), 5)
    [(2,)]
    """
    small = np.flatnonzero(ns.touched & (mass < k) & (mass > 0))
    if not len(small) or k <= 1:
        return []
    # candidates: atoms of a locally determined part, unit by unit; an atom whose
    # local samples vanish is determined in its unit by itself
    zero = (np.abs(ns.local[small]) <= _TOL).all(axis=1)
    cand = [small[zero]]
    rest = small[~zero]
    units = ns.unit[rest]
    order = np.argsort(units, kind="stable")
    rest, units = rest[order], units[order]
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    ends = np.r_[starts[1:], len(rest)]
    for s, e in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
        at = rest[s:e]
        sets = _zero_sets(ns.local[at], mass[at], k, max_atoms, unique=False)
        cand.append(at[np.unique(sets[sets >= 0])])
    cand = np.unique(np.concatenate(cand))
    sets = _zero_sets(ns.z[cand], mass[cand], k, max_atoms)
    found = sorted(
        (tuple(int(cand[i]) for i in row if i >= 0) for row in sets), key=lambda g: (len(g), g)
    )
    minimal: list[tuple[int, ...]] = []
    for g in found:
        if not any(set(f) <= set(g) for f in minimal):
            minimal.append(g)
    return minimal


def recoverable(sums: np.ndarray) -> np.ndarray:
    """Which sets are determined, from their sums of respondent-level null samples.

    ``sums`` is ``sets × samples``: ``Σ_{i ∈ set} z_i`` with the atom values of
    :func:`null_samples` split at random among each atom's respondents (so a
    set cutting an atom is never found determined).
    """
    sums = np.asarray(sums, dtype=float)
    if not sums.size:
        return np.zeros(len(sums), dtype=bool)
    return (np.abs(sums) <= _TOL * 4).all(axis=1)
