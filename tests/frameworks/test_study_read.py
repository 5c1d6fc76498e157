"""A real Optuna study read as the board shows it: states, values, progress, best, and the version."""

from __future__ import annotations

import optuna
import pytest

from slacknb.core.board import COMPLETE, FAIL, PRUNED, RUNNING, WAITING
from slacknb.frameworks.study_read import PROGRESS_KEY, progress_of, read_study

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_every_state_value_and_reported_step_is_read():
    study = optuna.create_study(study_name="read", direction="maximize")
    study.enqueue_trial({"x": 0.5})
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    pruned = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    pruned.report(0.3, 1)
    pruned.report(0.2, 4)
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    running = study.ask()
    running.set_user_attr(PROGRESS_KEY, {"epoch": 2, "value": 0.7, "n": 2})
    study.enqueue_trial({"x": 0.9})
    state, _ = read_study(study, now=running.datetime_start.timestamp() + 65)
    assert [(t.number, t.state) for t in state.trials] == [(0, COMPLETE), (1, PRUNED), (2, FAIL), (3, RUNNING),
                                                            (4, WAITING)]
    assert state.trials[0].values == (0.5,) and state.trials[0].params == {"x": 0.5}
    assert (state.trials[1].epoch, state.trials[1].reported) == (4, 0.2)  # trial.report() first
    assert (state.trials[3].epoch, state.trials[3].reported) == (2, 0.7)  # else its report's row
    assert state.trials[3].duration == pytest.approx(65, abs=0.01)
    assert state.trials[4].duration is None
    assert state.directions == ("maximize",) and state.best == (0,) and state.study == "read"


def test_the_version_grows_with_every_change_the_board_shows():
    study = optuna.create_study()
    versions = [read_study(study, now=0)[1]]

    def step(change):
        change()
        versions.append(read_study(study, now=0)[1])

    study.enqueue_trial({"x": 1.0})
    versions.append(read_study(study, now=0)[1])
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 2)})  # the waiting trial starts
    versions.append(read_study(study, now=0)[1])
    step(lambda: trial.report(0.5, 1))
    step(lambda: trial.set_user_attr(PROGRESS_KEY, {"epoch": 1, "value": 0.5, "n": 1}))
    step(lambda: study.tell(trial, 0.4))
    assert all(a < b for a, b in zip(versions, versions[1:])), versions


def test_the_best_is_the_direction_s_and_several_objectives_give_the_pareto_front():
    study = optuna.create_study(directions=["minimize", "maximize"])
    for values in ([1.0, 1.0], [0.5, 0.5], [2.0, 3.0], [2.0, 0.1]):
        study.tell(study.ask(), values)
    state, _ = read_study(study, now=0)
    assert state.best == tuple(sorted(t.number for t in study.best_trials)) == (0, 1, 2)
    single = optuna.create_study(direction="maximize")
    for value in (0.3, 0.9, 0.5):
        single.tell(single.ask(), value)
    assert read_study(single, now=0)[0].best == (1,)


def test_a_reports_row_gives_its_epoch_and_first_measure():
    row = {"epoch": 3, "iteration": 30, "main/loss": 0.25, "main/accuracy": 0.9, "elapsed_time": 4.0}
    assert progress_of(row, None, 3) == {"epoch": 3, "value": 0.25, "n": 3}
    assert progress_of(row, ["epoch", "main/accuracy"], 3) == {"epoch": 3, "value": 0.9, "n": 3}
    assert progress_of({"iteration": 7, "note": "x"}, None, 1) == {"epoch": 7, "value": None, "n": 1}
    assert progress_of({"note": "x"}, None, 1) is None
