"""A small real Chainer training (MLP on synthetic data, CPU) for tests and benchmarks."""

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np
from chainer import training
from chainer.training import extensions

ENTRIES = ["epoch", "iteration", "main/loss", "main/accuracy", "elapsed_time"]


class Boom(Exception):
    """The failure a test injects into training."""


def make_trainer(out, *, epochs=3, stop=None, samples=200, batch=20, seed=0,
                 features=4, hidden=16, log_trigger=(1, "epoch"), log_name="log"):
    rng = np.random.RandomState(seed)
    x = rng.randn(samples, features).astype(np.float32)
    t = (x.sum(axis=1) > 0).astype(np.int32)
    dataset = chainer.datasets.TupleDataset(x, t)
    model = L.Classifier(chainer.Sequential(L.Linear(features, hidden), F.relu, L.Linear(hidden, 2)))
    optimizer = chainer.optimizers.Adam()
    optimizer.setup(model)
    iterator = chainer.iterators.SerialIterator(dataset, batch, shuffle=False)
    updater = training.updaters.StandardUpdater(iterator, optimizer)
    trainer = training.Trainer(updater, stop or (epochs, "epoch"), out=str(out))
    trainer.extend(extensions.LogReport(trigger=log_trigger, log_name=log_name))
    return trainer


def raise_at_epoch(trainer, epoch, exception):
    """Make ``trainer`` raise ``exception`` when it reaches ``epoch``."""

    @training.make_extension(trigger=(1, "epoch"))
    def fail(tr):
        if tr.updater.epoch >= epoch:
            raise exception

    trainer.extend(fail)
