"""Trainer: fit/evaluate/predict, accepted data, losses by name, clipping, max-norm, stopping."""

from __future__ import annotations

import numpy as np
import pytest
from train_helpers import weights

import chainrule as cr
from chainrule import functional as F
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import LambdaCallback, Trainer
from chainrule.train.losses import available_losses, get_loss


def sgd(model, lr=0.5):
    return cr.optim.SGD(model.parameters(), lr=lr)


# ----------------------------------------------------------------------------- fit
def test_fit_reduces_the_loss(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    history = trainer.fit((x, y), epochs=15, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 15 and history.epoch == list(range(15))
    assert losses[-1] < 0.4 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    assert trainer.history is history
    assert history.params == {"epochs": 15, "steps": 8, "verbose": 0, "initial_epoch": 0}


def test_fit_accepts_loader_list_and_dataset(blobs, make_model):
    x, y = blobs
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    as_list = [(x[i : i + 40], y[i : i + 40]) for i in range(0, 120, 40)]
    for data, steps in ((loader, 4), (as_list, 3), (TensorDataset(x, y), 4)):
        model = make_model()
        seen = []
        cb = LambdaCallback(on_train_batch_end=lambda b, logs, seen=seen: seen.append(b))
        history = Trainer(model, sgd(model), "cross_entropy").fit(
            data, epochs=2, callbacks=[cb], verbose=0
        )
        assert seen == list(range(steps)) * 2
        assert history.params["steps"] == steps


def test_generator_feeds_many_epochs_with_steps_per_epoch(blobs, make_model):
    x, y = blobs
    drawn = []

    def batches():
        for i in range(6):
            drawn.append(i)
            yield x[i * 20 : (i + 1) * 20], y[i * 20 : (i + 1) * 20]

    model = make_model()
    history = Trainer(model, sgd(model), "cross_entropy").fit(
        batches(), epochs=3, steps_per_epoch=2, verbose=0
    )
    assert drawn == list(range(6)) and len(history.epoch) == 3


def test_a_used_up_generator_warns_and_stops(blobs, make_model):
    x, y = blobs
    gen = ((x[i : i + 40], y[i : i + 40]) for i in range(0, 120, 40))
    model = make_model()
    with pytest.warns(RuntimeWarning, match="ran out at epoch 2"):
        history = Trainer(model, sgd(model), "cross_entropy").fit(gen, epochs=3, verbose=0)
    assert history.epoch == [0]


def test_steps_per_epoch_limits_a_loader(blobs, make_model):
    x, y = blobs
    model = make_model()
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    Trainer(model, sgd(model), "cross_entropy").fit(
        (x, y), epochs=2, steps_per_epoch=2, callbacks=[cb], verbose=0
    )
    assert seen == [0, 1, 0, 1]


def test_initial_epoch_and_zero_epochs(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    assert trainer.fit((x, y), epochs=5, initial_epoch=3, verbose=0).epoch == [3, 4]
    before = weights(model)
    assert trainer.fit((x, y), epochs=0, verbose=0).epoch == []
    assert not any(np.any(before[k] != v) for k, v in weights(model).items())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": -1}, "epochs must be an integer >= 0"),
        ({"verbose": 3}, "verbose must be 0, 1 or 2"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"steps_per_epoch": 0}, "steps_per_epoch must be an integer >= 1"),
    ],
)
def test_fit_rejects_bad_arguments(blobs, make_model, kwargs, match):
    model = make_model()
    with pytest.raises(ValueError, match=match):
        Trainer(model, sgd(model), "cross_entropy").fit(blobs, **kwargs)


def test_fit_rejects_bad_data(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    with pytest.raises(ValueError, match="as many rows"):
        trainer.fit((x, y[:-1]), verbose=0)
    with pytest.raises(TypeError, match="single array"):
        trainer.fit(x, verbose=0)
    with pytest.raises(TypeError, match="expected a DataLoader"):
        trainer.fit(42, verbose=0)
    with pytest.raises(ValueError, match="yielded no batches"):
        trainer.fit([], verbose=0)
    with pytest.raises(ValueError, match=r"pair \(x, y\)"):
        trainer.fit([(x, y, y)], verbose=0)


def test_float64_inputs_are_cast_to_the_model_dtype(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    trainer.fit((x.astype(np.float64), y), epochs=1, verbose=0)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert trainer.predict(x.astype(np.float64)).dtype == np.float32


def test_modes_train_during_steps_eval_during_validation_and_restored(blobs, make_model):
    x, y = blobs
    model = make_model()
    modes = {"train": set(), "test": set()}
    cb = LambdaCallback(
        on_train_batch_end=lambda b, logs: modes["train"].add(model.training),
        on_test_batch_end=lambda b, logs: modes["test"].add(model.training),
    )
    model.eval()
    Trainer(model, sgd(model), "cross_entropy", device="cpu").fit(
        (x, y), validation=(x, y), epochs=2, callbacks=[cb], verbose=0
    )
    assert modes == {"train": {True}, "test": {False}}
    assert model.training is False


# ----------------------------------------------------------------------------- losses
def test_loss_lookup():
    assert get_loss("cross_entropy") is F.cross_entropy
    assert get_loss("BCE_with_logits") is F.binary_cross_entropy_with_logits
    assert get_loss("nll") is F.nll_loss and get_loss("mse") is F.mse_loss
    assert "bce" in available_losses()
    with pytest.raises(ValueError, match="unknown loss 'hinge'; available: bce,"):
        get_loss("hinge")
    with pytest.raises(TypeError, match="loss must be a name"):
        get_loss(3)


def _fit_loss(model, loss, x, y, epochs=20, metrics=()):
    trainer = Trainer(model, sgd(model, lr=0.3), loss, metrics=metrics)
    return trainer, trainer.fit((x, y), epochs=epochs, batch_size=20, verbose=0)


def test_losses_by_name_and_module_train(blobs, make_model):
    x, y = blobs
    cases = [
        ("cross_entropy", make_model(), y),
        (cr.nn.CrossEntropyLoss(), make_model(), y),
        ("nll", cr.nn.Sequential(make_model(), cr.nn.LogSoftmax(dim=1)), y),
        ("bce_with_logits", make_model(out=1), y[:, None]),  # int targets are cast to float
        ("bce", cr.nn.Sequential(make_model(out=1), cr.nn.Sigmoid()), y[:, None]),
        ("mse", make_model(out=1), (x[:, :1] * 2.0 - x[:, 1:2]).astype(np.float64)),
    ]
    for loss, model, target in cases:
        _, history = _fit_loss(model, loss, x, target)
        losses = history.history["loss"]
        assert losses[-1] < 0.6 * losses[0], loss


def test_bce_with_logits_accuracy_thresholds_logits_at_zero(blobs, make_model):
    x, y = blobs
    trainer, history = _fit_loss(make_model(out=1), "bce_with_logits", x, y[:, None], 30, ["acc"])
    logits = trainer.predict(x)
    expected = np.mean((logits > 0) == (y[:, None] > 0.5))
    assert trainer.evaluate((x, y[:, None]), verbose=0)["accuracy"] == pytest.approx(expected)
    assert expected > 0.9


def test_loss_must_be_a_single_number(blobs, make_model):
    model = make_model()
    loss = lambda p, t: F.cross_entropy(p, t, reduction="none")  # noqa: E731
    with pytest.raises(ValueError, match=r"one number \(a 0-d Tensor\), got \(120,\)"):
        Trainer(model, sgd(model), loss).fit(blobs, batch_size=120, verbose=0)


def test_metrics_listed_twice_or_unknown(make_model):
    model = make_model()
    with pytest.raises(ValueError, match="listed twice"):
        Trainer(model, sgd(model), "cross_entropy", metrics=["accuracy", "acc"])
    with pytest.raises(ValueError, match="unknown metric 'f2'; available: acc, accuracy"):
        Trainer(model, sgd(model), "cross_entropy", metrics=["f2"])
    trainer = Trainer(model, sgd(model), "cross_entropy", metrics=["loss", "top1"])
    assert [m.name for m in trainer.metrics] == ["top1"]


def test_constructor_checks(make_model):
    model = make_model()
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        Trainer(lambda x: x, sgd(model), "mse")
    with pytest.raises(TypeError, match="optimizer must be"):
        Trainer(model, object(), "mse")
    with pytest.raises(ValueError, match="clip_grad_norm must be a number > 0"):
        Trainer(model, sgd(model), "mse", clip_grad_norm=0)


# ----------------------------------------------------------------------------- step options
def _one_step(model, x, y, **options):
    trainer = Trainer(model, sgd(model, lr=1.0), "cross_entropy", **options)
    before = weights(model)
    trainer.fit((x, y), epochs=1, steps_per_epoch=1, batch_size=120, shuffle=False, verbose=0)
    return {k: v - before[k] for k, v in weights(model).items()}  # = -grad, as lr = 1


def test_clip_grad_value_bounds_every_update(blobs, make_model):
    x, y = blobs
    free = _one_step(make_model(), x, y)
    assert max(np.abs(d).max() for d in free.values()) > 0.01
    clipped = _one_step(make_model(), x, y, clip_grad_value=0.01)
    for key, d in clipped.items():
        np.testing.assert_allclose(d, np.clip(free[key], -0.01, 0.01), atol=1e-7)


def test_clip_grad_norm_bounds_the_total_norm(blobs, make_model):
    x, y = blobs
    free = _one_step(make_model(), x, y)
    norm = np.sqrt(sum(float((d.astype(np.float64) ** 2).sum()) for d in free.values()))
    clipped = _one_step(make_model(), x, y, clip_grad_norm=norm / 4)
    for key, d in clipped.items():
        np.testing.assert_allclose(d, free[key] / 4, rtol=1e-4, atol=1e-7)


def _row_norms(w):
    return np.sqrt((w.astype(np.float64) ** 2).sum(axis=1))


def test_max_norm_number_constrains_every_weight_matrix(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model, lr=2.0), "cross_entropy", max_norm=0.5)
    trainer.fit((x, y), epochs=3, verbose=0)
    for layer in (model[0], model[2]):
        assert _row_norms(layer.weight.data).max() <= 0.5 + 1e-5
    assert np.isclose(_row_norms(model[2].weight.data).max(), 0.5, atol=1e-4)  # it did bind


def test_max_norm_dict_by_parameter_and_module_name(blobs, make_model):
    x, y = blobs
    model = make_model()
    options = {"max_norm": {"0.weight": 0.3, "2": 0.2}}
    Trainer(model, sgd(model, lr=2.0), "cross_entropy", **options).fit((x, y), verbose=0)
    assert _row_norms(model[0].weight.data).max() <= 0.3 + 1e-5
    assert _row_norms(model[2].weight.data).max() <= 0.2 + 1e-5
    with pytest.raises(ValueError, match=r"names 'fc'.*parameters: 0.weight, 0.bias"):
        Trainer(model, sgd(model), "cross_entropy", max_norm={"fc": 1.0})
    with pytest.raises(ValueError, match="must be a number > 0"):
        Trainer(model, sgd(model), "cross_entropy", max_norm={"0.weight": -1})


def test_max_norm_callable_and_maxnorm_object_run_after_each_step(blobs, make_model):
    x, y = blobs
    model = make_model()
    calls = []
    Trainer(model, sgd(model), "cross_entropy", max_norm=lambda: calls.append(1)).fit(
        (x, y), epochs=2, verbose=0
    )
    assert len(calls) == 8
    constraint = cr.optim.MaxNorm([model[2].weight], max_value=0.1)
    Trainer(model, sgd(model, lr=2.0), "cross_entropy", max_norm=constraint).fit((x, y), verbose=0)
    assert _row_norms(model[2].weight.data).max() <= 0.1 + 1e-6


# ----------------------------------------------------------------------------- evaluate, predict
def test_evaluate_is_exact_over_a_ragged_last_batch(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy", metrics=["accuracy", "perplexity"])
    trainer.fit((x, y), epochs=2, verbose=0)
    logs = trainer.evaluate((x, y), batch_size=50, verbose=0)  # batches of 50, 50, 20
    with cr.no_grad():
        logits = model(x)
        full_loss = F.cross_entropy(logits, y).item()
    assert logs["loss"] == pytest.approx(full_loss, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(np.mean(logits.data.argmax(1) == y))
    assert logs["perplexity"] == pytest.approx(np.exp(full_loss), rel=1e-5)


def test_predict_from_arrays_loaders_and_bare_batches(blobs, make_model):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    with cr.no_grad():
        expected = model(x).data
    for data in (
        x,
        (x,),
        (x, y),
        DataLoader(TensorDataset(x, y), batch_size=7),
        [x[:50], x[50:]],
    ):
        out = trainer.predict(data, batch_size=32)
        assert isinstance(out, np.ndarray) and out.shape == (120, 2)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="no batches"):
        trainer.predict([])


def test_predict_with_several_outputs(blobs):
    class TwoHeads(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = cr.nn.Linear(4, 2), cr.nn.Linear(4, 3)

        def forward(self, x):
            return self.a(x), self.b(x)

    model = TwoHeads()
    out = Trainer(model, sgd(model), "mse").predict(blobs[0], batch_size=50)
    assert [o.shape for o in out] == [(120, 2), (120, 3)]


# ----------------------------------------------------------------------------- stopping, errors
@pytest.mark.parametrize("via", ["trainer", "model"])
def test_a_callback_stops_training_after_the_current_step(blobs, make_model, via):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    seen = []

    def on_batch_end(batch, logs):
        seen.append(batch)
        if len(seen) == 6:
            target = trainer if via == "trainer" else model
            target.stop_training = True

    cb = LambdaCallback(on_train_batch_end=on_batch_end)
    history = trainer.fit((x, y), epochs=5, callbacks=[cb], verbose=0)
    assert seen == [0, 1, 2, 3, 0, 1] and history.epoch == [0, 1]
    trainer.fit((x, y), epochs=1, verbose=0)  # the flag is reset by the next fit
    assert trainer.history.epoch == [0]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_on_train_end_runs_when_an_exception_leaves_fit(blobs, make_model, error):
    x, y = blobs
    model = make_model()
    trainer = Trainer(model, sgd(model), "cross_entropy")
    ended = []

    def explode(batch, logs):
        if batch == 2:
            raise error("boom")

    cbs = [
        LambdaCallback(on_train_batch_begin=explode),
        LambdaCallback(on_train_end=lambda logs: ended.append(trainer.exception)),
    ]
    model.eval()
    with pytest.raises(error, match="boom"):
        trainer.fit((x, y), epochs=3, callbacks=cbs, verbose=0)
    assert len(ended) == 1 and isinstance(ended[0], error)
    assert model.training is False


def test_a_failing_on_train_end_does_not_hide_the_original_error(blobs, make_model):
    model = make_model()
    ended = []

    def fail(logs):
        raise OSError("disk full")

    cbs = [
        LambdaCallback(on_train_batch_begin=lambda b, logs: 1 / 0),
        LambdaCallback(on_train_end=fail),
        LambdaCallback(on_train_end=lambda logs: ended.append(True)),
    ]
    with pytest.raises(ZeroDivisionError) as info:
        Trainer(model, sgd(model), "cross_entropy").fit(blobs, callbacks=cbs, verbose=0)
    assert ended == [True]
    assert any("disk full" in note for note in info.value.__notes__)
    with pytest.raises(OSError, match="disk full"):
        Trainer(model, sgd(model), "cross_entropy").fit(blobs, callbacks=cbs[1:], verbose=0)


def test_callbacks_must_be_callback_objects(blobs, make_model):
    model = make_model()
    with pytest.raises(TypeError, match="LambdaCallback"):
        Trainer(model, sgd(model), "cross_entropy").fit(blobs, callbacks=[print], verbose=0)


def test_repr(make_model):
    model = make_model()
    text = repr(Trainer(model, sgd(model), F.cross_entropy, metrics=["accuracy", "top2"]))
    assert text == "Trainer(model=Sequential, loss=cross_entropy, metrics=[accuracy, top2])"


def test_default_metrics_depend_on_the_loss(make_model):
    model = make_model()
    names = {
        loss: [m.name for m in Trainer(model, sgd(model), loss).metrics]
        for loss in ("cross_entropy", "mse", "l1", "bce")
    }
    assert names == {"cross_entropy": ["accuracy"], "mse": [], "l1": [], "bce": ["accuracy"]}
    assert Trainer(model, sgd(model), "bce_with_logits").metrics[0].threshold == 0.0
    assert [m.name for m in Trainer(model, sgd(model), "mse", metrics="top2").metrics] == ["top2"]
