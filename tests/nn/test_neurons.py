"""The course's first neurons: McCulloch-Pitts, the perceptron, Adaline, and XOR by backprop."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.nn.neurons import (
    XOR_INPUTS,
    XOR_TARGETS,
    Adaline,
    McCullochPitts,
    McCullochPittsNetwork,
    Perceptron,
    novikoff_bound,
    train_xor_mlp,
    xor_impossible,
    xor_network,
)

TRUTH_INPUTS = XOR_INPUTS  # (0,0), (0,1), (1,0), (1,1)


def _separable(n: int = 300, margin: float = 0.1, labels: str = "pm1", seed: int = 0):
    """Points in [-1, 1]^2 kept only if at distance >= margin from a known hyperplane (w, b)."""
    rng = np.random.default_rng(seed)
    weight, bias = np.array([1.0, -2.0]), 0.3
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    score = X @ weight + bias
    keep = np.abs(score) / np.linalg.norm(np.append(weight, bias)) >= margin
    X, score = X[keep], score[keep]
    t = np.where(score > 0, 1, -1) if labels == "pm1" else (score > 0).astype(int)
    return X, t, weight, bias


# --------------------------------------------------------------------------- McCulloch-Pitts
def test_mcculloch_pitts_gates():
    assert McCullochPitts.and_gate()(TRUTH_INPUTS).tolist() == [0, 0, 0, 1]
    assert McCullochPitts.or_gate()(TRUTH_INPUTS).tolist() == [0, 1, 1, 1]
    assert McCullochPitts.not_gate()([[0], [1]]).tolist() == [1, 0]
    inputs, outputs = McCullochPitts.and_gate(3).truth_table()
    assert inputs.shape == (8, 3)
    assert outputs.tolist() == [0] * 7 + [1]


def test_mcculloch_pitts_absolute_inhibition():
    # a strongly excited unit is still silenced by one active inhibitory input
    unit = McCullochPitts([5, 5, 1], threshold=1, inhibitory=[2])
    assert unit([1, 1, 0]) == 1
    assert unit([1, 1, 1]) == 0
    assert unit([0, 0, 0]) == 0


def test_mcculloch_pitts_single_sample_and_bool_input():
    unit = McCullochPitts.and_gate()
    assert unit([1, 1]) == 1
    assert unit(np.array([[True, False]])).tolist() == [0]


def test_mcculloch_pitts_rejects_non_binary_input():
    with pytest.raises(ValueError, match="binary"):
        McCullochPitts.or_gate()([[0.5, 1]])
    with pytest.raises(ValueError, match="binary"):
        McCullochPitts.or_gate()([[2, 0]])


def test_mcculloch_pitts_rejects_wrong_input_count():
    with pytest.raises(
        ValueError, match=r"expected input of shape \(2,\) or \(N, 2\), got \(4, 3\)"
    ):
        McCullochPitts.and_gate()(np.zeros((4, 3), dtype=int))


def test_mcculloch_pitts_rejects_bad_construction():
    with pytest.raises(TypeError, match="integers"):
        McCullochPitts([0.5, 1], threshold=1)
    with pytest.raises(TypeError, match="threshold"):
        McCullochPitts([1, 1], threshold=1.5)
    with pytest.raises(ValueError, match="inhibitory"):
        McCullochPitts([1, 1], threshold=1, inhibitory=[2])


def test_no_single_unit_computes_xor():
    result = xor_impossible()
    assert result.impossible and not result.xor_found
    # the grid is rich enough: every other Boolean function of two inputs is found ...
    assert len(result.realizable) == 14
    # ... and exactly the two that are not linearly separable are missing
    assert result.missing == {(0, 1, 1, 0), (1, 0, 0, 1)}
    assert result.units_checked == 7 * 7 * 9 * 4
    for table, unit in result.example_units.items():
        assert tuple(unit(XOR_INPUTS).tolist()) == table


def test_xor_search_without_inhibition_also_fails():
    result = xor_impossible(weights=range(-5, 6), thresholds=range(-6, 7), inhibitory=False)
    assert result.impossible
    assert len(result.realizable) == 14


def test_two_layer_network_computes_xor():
    net = xor_network()
    assert net(XOR_INPUTS).tolist() == XOR_TARGETS.tolist()
    inputs, outputs = net.truth_table()
    assert outputs.tolist() == [0, 1, 1, 0]
    assert net([1, 0]) == 1


def test_network_checks_layer_widths():
    with pytest.raises(ValueError, match="layer 1"):
        McCullochPittsNetwork([[McCullochPitts.and_gate()], [McCullochPitts.or_gate(2)]])


# --------------------------------------------------------------------------- Perceptron
@pytest.mark.parametrize("labels", ["pm1", "01"])
@pytest.mark.parametrize("lr", [1.0, 0.1])
def test_perceptron_converges_within_novikoff_bound(labels, lr):
    X, t, weight, bias = _separable(labels=labels)
    bound = novikoff_bound(X, t, weight, bias)
    assert bound.margin >= 0.1 - 1e-12
    perceptron = Perceptron(lr=lr)
    result = perceptron.fit(X, t, max_epochs=1000)
    assert result.converged, result.message
    assert not result.cycled
    assert 0 < result.mistakes <= bound.bound
    assert result.updates == result.mistakes == sum(result.mistakes_per_epoch)
    assert result.mistakes_per_epoch[-1] == 0
    assert np.array_equal(perceptron.predict(X), t)  # predictions come back in the caller's coding
    assert "converged" in result.message


def test_perceptron_bound_holds_when_shuffled():
    X, t, weight, bias = _separable(n=400, margin=0.05, seed=3)
    bound = novikoff_bound(X, t, weight, bias)
    for seed in range(3):
        result = Perceptron(shuffle=True, seed=seed).fit(X, t, max_epochs=2000)
        assert result.converged and result.mistakes <= bound.bound


def test_perceptron_on_xor_reports_no_convergence():
    perceptron = Perceptron()
    result = perceptron.fit(XOR_INPUTS, XOR_TARGETS, max_epochs=50)
    assert not result.converged
    assert result.cycled  # fixed order, integer data: the weights repeat
    assert "did not converge" in result.message and "not linearly separable" in result.message
    assert (perceptron.predict(XOR_INPUTS) != XOR_TARGETS).any()


def test_perceptron_on_xor_shuffled_runs_out_of_epochs():
    result = Perceptron(shuffle=True, seed=0).fit(XOR_INPUTS, 2 * XOR_TARGETS - 1, max_epochs=30)
    assert not result.converged and not result.cycled
    assert result.epochs == 30
    assert "did not converge in 30 epochs" in result.message


def test_perceptron_and_gate_learned():
    perceptron = Perceptron(n_features=2)
    result = perceptron.fit(XOR_INPUTS, [0, 0, 0, 1])
    assert result.converged
    assert perceptron.predict(XOR_INPUTS).tolist() == [0, 0, 0, 1]


def test_perceptron_bad_input():
    perceptron = Perceptron(n_features=3)
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 3\), got \(4, 2\)"):
        perceptron.fit(XOR_INPUTS, XOR_TARGETS)
    with pytest.raises(ValueError, match=r"targets of shape \(4,\)"):
        Perceptron().fit(XOR_INPUTS, [0, 1, 1])
    with pytest.raises(ValueError, match="binary labels"):
        Perceptron().fit(XOR_INPUTS, [0, 1, 2, 0])
    with pytest.raises(RuntimeError, match="fit"):
        Perceptron().predict(XOR_INPUTS)
    with pytest.raises(ValueError, match="lr"):
        Perceptron(lr=0.0)


def test_novikoff_bound_rejects_non_separating_plane():
    X, t, weight, bias = _separable()
    with pytest.raises(ValueError, match="does not separate"):
        novikoff_bound(X, t, -weight, bias)


# --------------------------------------------------------------------------- Adaline
def _least_squares(X, t):
    d = np.where(np.asarray(t) == 1, 1.0, -1.0)
    augmented = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.lstsq(augmented, d, rcond=None)[0]


@pytest.mark.parametrize("labels", ["pm1", "01"])
def test_adaline_batch_reaches_least_squares(labels):
    X, t, _, _ = _separable(labels=labels)
    adaline = Adaline(lr=0.5, mode="batch")
    result = adaline.fit(X, t, epochs=5000, tol=1e-10)
    assert result.converged and not result.diverged, result.message
    assert np.allclose(np.append(adaline.weight, adaline.bias), _least_squares(X, t), atol=1e-8)
    assert np.array_equal(adaline.predict(X), t)
    assert len(result.mse) == result.epochs
    assert all(b <= a + 1e-12 for a, b in zip(result.mse, result.mse[1:], strict=False))


def test_adaline_online_lms_approaches_least_squares():
    X, t, _, _ = _separable(n=120)
    solution = _least_squares(X, t)
    adaline = Adaline(lr=0.02, mode="online", lr_decay=0.1, seed=0)
    result = adaline.fit(X, t, epochs=200)
    assert not result.diverged
    assert np.abs(np.append(adaline.weight, adaline.bias) - solution).max() < 1e-2
    assert np.array_equal(adaline.predict(X), t)
    assert result.mse[-1] < result.mse[0]
    # the minimum of the MSE is the least-squares residual
    augmented = np.hstack([X, np.ones((len(X), 1))])
    best = np.mean((np.where(t == 1, 1.0, -1.0) - augmented @ solution) ** 2)
    assert result.mse[-1] == pytest.approx(best, rel=1e-3)


def test_adaline_online_is_seeded():
    X, t, _, _ = _separable(n=60)
    first = Adaline(lr=0.05, seed=7)
    second = Adaline(lr=0.05, seed=7)
    first.fit(X, t, epochs=5)
    second.fit(X, t, epochs=5)
    assert np.array_equal(first.weight, second.weight)


def test_adaline_reports_divergence():
    X, t, _, _ = _separable()
    result = Adaline(lr=5.0, mode="batch").fit(X, t, epochs=100)
    assert result.diverged and not result.converged
    assert "too large" in result.message


def test_adaline_bad_input():
    with pytest.raises(ValueError, match="mode"):
        Adaline(mode="stochastic")
    adaline = Adaline(n_features=2)
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 2\), got \(3, 5\)"):
        adaline.fit(np.zeros((3, 5)), [0, 1, 0])
    with pytest.raises(ValueError, match="NaN"):
        adaline.fit([[0.0, np.nan]], [1])


# --------------------------------------------------------------------------- XOR by backprop
def test_mlp_trained_by_backprop_solves_xor():
    result = train_xor_mlp(hidden=4, epochs=2000, lr=0.5, seed=0)
    assert result.solved, result.message
    assert result.predictions.tolist() == XOR_TARGETS.tolist()
    assert result.losses[-1] < 0.1 * result.losses[0]


def test_mlp_with_mse_loss_solves_xor():
    result = train_xor_mlp(hidden=4, epochs=3000, lr=1.0, seed=1, loss="mse")
    assert result.solved, result.message


def test_mlp_seed_is_reproducible_and_leaves_package_rng_alone():
    import chainrule as cr

    cr.manual_seed(0)
    expected = cr.get_rng().random()
    cr.manual_seed(0)
    first = train_xor_mlp(epochs=20, seed=3)
    assert cr.get_rng().random() == expected
    second = train_xor_mlp(epochs=20, seed=3)
    assert first.losses == second.losses


def test_mlp_bad_options():
    with pytest.raises(ValueError, match="activation"):
        train_xor_mlp(activation="relu6")
    with pytest.raises(ValueError, match="loss"):
        train_xor_mlp(loss="hinge")
    with pytest.raises(ValueError, match="hidden"):
        train_xor_mlp(hidden=0)
