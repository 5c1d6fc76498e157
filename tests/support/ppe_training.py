"""A small real PyTorch training driven by pytorch-pfn-extras (MLP on synthetic data, CPU).

Both ways ppe trains: :func:`make_trainer` (``ppe.engine.create_trainer``, then
``trainer.run(loader)``) and :func:`make_manager` with :func:`train_loop` (a
hand-written ``while not manager.stop_trigger`` loop).
"""

import pytorch_pfn_extras as ppe
import torch
from pytorch_pfn_extras.training import extensions

ENTRIES = ["epoch", "iteration", "main/loss", "main/accuracy", "elapsed_time"]


class Boom(Exception):
    """The failure a test injects into training."""


class Classifier(torch.nn.Module):
    """An MLP that reports its loss and accuracy as ppe's (and Chainer's) examples do."""

    def __init__(self, features=4, hidden=16, fail_at=None):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(features, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 2))
        self.fail_at = fail_at  # (iteration, exception): raised in the forward pass
        self.calls = 0

    def forward(self, x, t):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at[0]:
            raise self.fail_at[1]
        y = self.net(x)
        loss = torch.nn.functional.cross_entropy(y, t)
        accuracy = (y.argmax(dim=1) == t).float().mean()
        ppe.reporting.report({"main/loss": loss.item(), "main/accuracy": accuracy.item()})
        return {"loss": loss}


def make_data(samples=200, features=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, features, generator=generator)
    t = (x.sum(dim=1) > 0).long()
    return torch.utils.data.TensorDataset(x, t)


def make_loader(samples=200, batch=20, features=4, seed=0):
    return torch.utils.data.DataLoader(make_data(samples, features, seed), batch_size=batch, shuffle=False)


def make_manager(out, *, epochs=3, stop=None, samples=200, batch=20, features=4, hidden=16,
                 log_trigger=(1, "epoch"), fail_at=None, log_name="log"):
    """``(manager, model, optimizer, loader)`` for a hand-written loop, with a LogReport."""
    torch.manual_seed(0)
    model = Classifier(features, hidden, fail_at)
    optimizer = torch.optim.Adam(model.parameters())
    loader = make_loader(samples, batch, features)
    manager = ppe.training.ExtensionsManager(model, optimizer, epochs, iters_per_epoch=len(loader),
                                             out_dir=str(out), stop_trigger=stop)
    if log_name is None:  # no log file: rewriting it every row would dwarf what a benchmark measures
        manager.extend(extensions.LogReport(trigger=log_trigger, writer=NullWriter()))
    else:
        manager.extend(extensions.LogReport(trigger=log_trigger, filename=log_name))
    return manager, model, optimizer, loader


class NullWriter:
    """A ppe writer that writes nothing."""

    def __call__(self, *args, **kwargs):
        pass

    def finalize(self):
        pass


class FailingLoader:
    """``loader``, raising ``exception`` instead of its ``at``-th batch (counted from 1): a
    failure between iterations, where ppe calls no extension hook."""

    def __init__(self, loader, at, exception):
        self.loader, self.at, self.exception, self.served = loader, at, exception, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            self.served += 1
            if self.served >= self.at:
                raise self.exception
            yield batch


def train_loop(manager, model, optimizer, loader):
    """The hand-written loop of ppe's examples."""
    while not manager.stop_trigger:
        for x, t in loader:
            with manager.run_iteration():
                optimizer.zero_grad()
                model(x, t)["loss"].backward()
                optimizer.step()
            if manager.stop_trigger:
                break


def make_trainer(out, *, epochs=3, stop=None, samples=200, batch=20, features=4, hidden=16,
                 log_trigger=(1, "epoch"), fail_at=None, log_report=True):
    """``(trainer, loader)``: ``ppe.engine.create_trainer`` with a LogReport; ``trainer.run(loader)``."""
    torch.manual_seed(0)
    model = Classifier(features, hidden, fail_at)
    ppe.to(model, "cpu")
    optimizer = torch.optim.Adam(model.parameters())
    trainer = ppe.engine.create_trainer(model, optimizer, epochs, out_dir=str(out), stop_trigger=stop,
                                        device="cpu")
    if log_report:
        trainer.extend(extensions.LogReport(trigger=log_trigger))
    return trainer, make_loader(samples, batch, features)
