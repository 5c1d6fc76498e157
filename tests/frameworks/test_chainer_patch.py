"""The Trainer.run patch the cell magic stands on: attaches a report, and always restores Trainer.run."""

from __future__ import annotations

import io
import warnings

import pytest
from chainer.training import Trainer, extensions

from slacknb import SlackReport
from slacknb.frameworks.chainer_patch import TrainerPatch, attach_report, is_patched

from support.training import Boom, make_trainer, raise_at_epoch

ORIGINAL_RUN = Trainer.__dict__["run"]


def test_patch_attaches_once_and_restores_the_original(tmp_path):
    attached = []
    patch = TrainerPatch(lambda t: attached.append(
        attach_report(t, lambda name: SlackReport(log_report=name, out=io.StringIO()), report_type=SlackReport)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no Slack settings: local-only warning
        with pytest.raises(Boom) as caught, patch:
            assert Trainer.__dict__["run"] is not ORIGINAL_RUN
            trainer = make_trainer(tmp_path, epochs=3)
            raise_at_epoch(trainer, 2, Boom("x"))
            trainer.run()
    assert Trainer.__dict__["run"] is ORIGINAL_RUN
    [report] = attached
    assert report.state.status == "Failed"
    assert patch.trainers == [trainer] and patch.iterations == 20
    assert patch.raised(caught.value) and not patch.raised(Boom("other"))


def test_nested_patches_ending_out_of_order_restore_the_original(tmp_path):
    calls = []
    outer = TrainerPatch(lambda t: calls.append("outer"))
    inner = TrainerPatch(lambda t: calls.append("inner"))
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # the outer one ends first
    assert is_patched()
    make_trainer(tmp_path, epochs=1).run()
    inner.__exit__(None, None, None)
    assert Trainer.__dict__["run"] is ORIGINAL_RUN and not is_patched()
    assert calls == ["inner"] and len(inner.trainers) == 1 and outer.trainers == []


def test_patch_uses_the_log_reports_trigger_and_adds_one_when_missing(tmp_path):
    trainer = make_trainer(tmp_path, stop=(20, "iteration"))
    trainer.extend(extensions.LogReport(trigger=(5, "iteration")), name="log5")
    trainer._extensions.pop("LogReport")
    names = []
    report = attach_report(trainer, lambda name: names.append(name) or object.__new__(SlackReport),
                           report_type=SlackReport)
    assert names == ["log5"] and trainer._extensions["SlackReport"].extension is report
    trigger = trainer._extensions["SlackReport"].trigger
    assert (trigger.period, trigger.unit) == (5, "iteration")
    assert attach_report(trainer, lambda name: pytest.fail("attached twice"), report_type=SlackReport) is None

    bare = make_trainer(tmp_path / "b", epochs=1)
    bare._extensions.pop("LogReport")
    attach_report(bare, lambda name: object.__new__(SlackReport), report_type=SlackReport)
    assert isinstance(bare.get_extension("LogReport"), extensions.LogReport)
