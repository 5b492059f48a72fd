"""Fairness metrics: hand-computed differences, undefined true-positive rates,
validation, and the offline demonstration on statsmodels' `fair` survey."""

import math
import socket

import numpy as np
import pytest

from kerasdl.evaluation import (
    FairnessData,
    demographic_parity_difference,
    equal_opportunity_difference,
    fairness_demo,
    fairness_report,
    format_fairness,
    load_fairness_demo,
)

# Group a: selection 3/5, true-positive rate 2/3 (positives at 0, 1, 4 -> 1, 0, 1),
# accuracy 3/5. Group b: selection 2/5, TPR 1/2 (positives at 5, 9 -> 0, 1),
# accuracy 3/5.
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 1])
Y_PRED = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 1])
GROUP = np.array(["a"] * 5 + ["b"] * 5)


def test_report_matches_hand_computation():
    report = fairness_report(Y_TRUE, Y_PRED, GROUP, attribute="letter")
    a, b = report["groups"]
    assert (a["group"], b["group"]) == ("a", "b")
    assert (a["support"], a["n_positive"]) == (5, 3)
    assert a["selection_rate"] == pytest.approx(3 / 5)
    assert b["selection_rate"] == pytest.approx(2 / 5)
    assert a["true_positive_rate"] == pytest.approx(2 / 3)
    assert b["true_positive_rate"] == pytest.approx(1 / 2)
    assert a["accuracy"] == pytest.approx(3 / 5)
    assert b["accuracy"] == pytest.approx(3 / 5)
    assert report["demographic_parity_difference"] == pytest.approx(0.2)
    assert report["equal_opportunity_difference"] == pytest.approx(1 / 6)
    assert report["demographic_parity_between"] == ["a", "b"]
    assert report["overall"]["selection_rate"] == pytest.approx(0.5)
    assert demographic_parity_difference(Y_TRUE, Y_PRED, GROUP) == pytest.approx(0.2)
    assert equal_opportunity_difference(Y_TRUE, Y_PRED, GROUP) == pytest.approx(1 / 6)
    # The selected label can be another one: label 0 flips the selection rates.
    assert demographic_parity_difference(
        Y_TRUE, Y_PRED, GROUP, positive_label=0
    ) == pytest.approx(0.2)
    text = format_fairness(report)
    assert "fairness by letter" in text and "0.200" in text and "0.167" in text


def test_group_without_positives_gets_nan_tpr_and_a_note():
    y_true = np.concatenate([Y_TRUE, [0, 0]])
    y_pred = np.concatenate([Y_PRED, [1, 0]])
    group = np.array([0] * 5 + [1] * 5 + [2] * 2)
    report = fairness_report(
        y_true, y_pred, group, group_names=["young", "middle", "old"]
    )
    old = report["groups"][2]
    assert old["group"] == "old" and old["n_positive"] == 0
    assert math.isnan(old["true_positive_rate"])
    assert old["selection_rate"] == pytest.approx(0.5)
    # NaN is left out: the difference is still 2/3 - 1/2.
    assert report["equal_opportunity_difference"] == pytest.approx(1 / 6)
    assert report["demographic_parity_difference"] == pytest.approx(0.2)
    assert any("'old'" in n and "undefined" in n for n in report["notes"])
    assert "n/a" in format_fairness(report)


def test_no_group_with_two_defined_tprs_gives_nan_and_a_note():
    report = fairness_report([1, 0, 0, 0], [1, 1, 0, 1], ["x", "x", "y", "y"])
    assert math.isnan(report["equal_opportunity_difference"])
    assert report["demographic_parity_difference"] == pytest.approx(0.5)
    assert any(
        "equal-opportunity difference is undefined" in n for n in report["notes"]
    )


def test_group_names_as_dict():
    report = fairness_report(
        Y_TRUE, Y_PRED, GROUP, group_names={"a": "Group A", "b": "Group B"}
    )
    assert [g["group"] for g in report["groups"]] == ["Group A", "Group B"]
    assert [g["value"] for g in report["groups"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((Y_TRUE, Y_PRED, ["a"] * 10), {}, "at least 2 groups"),
        ((Y_TRUE, Y_PRED, GROUP[:9]), {}, "sensitive"),
        ((Y_TRUE[:9], Y_PRED, GROUP), {}, "y_true"),
        ((Y_TRUE, Y_PRED, [None] + ["a"] * 9), {}, "missing"),
        ((Y_TRUE, Y_PRED, [np.nan] + [1.0] * 9), {}, "missing"),
        ((Y_TRUE, Y_PRED, GROUP), {"positive_label": "yes"}, "positive_label"),
        ((Y_TRUE, Y_PRED, GROUP), {"group_names": {"a": "A"}}, "group_names"),
        ((Y_TRUE, Y_PRED, GROUP), {"group_names": ["A", "B"]}, "dict"),
        ((Y_TRUE, Y_PRED, [0] * 5 + [3] * 5), {"group_names": ["A"]}, "group_names"),
    ],
)
def test_bad_inputs_raise_value_error(args, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        fairness_report(*args, **kwargs)


def test_standalone_functions_validate_too():
    with pytest.raises(ValueError, match="at least 2 groups"):
        demographic_parity_difference(None, Y_PRED, np.zeros(10))
    with pytest.raises(ValueError, match="y_true"):
        equal_opportunity_difference(None, Y_PRED, GROUP)


def test_demo_data_is_real_and_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the fairness demo must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    data = load_fairness_demo()
    assert isinstance(data, FairnessData)
    assert data.x.shape == (6366, 7) and data.x.dtype == np.float32
    assert set(np.unique(data.y)) == {0, 1}
    assert data.y.mean() == pytest.approx(0.3225, abs=1e-3)  # 32% report an affair
    assert set(np.unique(data.sensitive)) == {0, 1}
    assert data.group_names == ["under 30", "30 or older"]
    assert "age" not in data.feature_names  # the attribute is not a feature
    assert "statsmodels" in data.description and "substitute" in data.description
    dataset = data.to_dataset()
    assert dataset.task == "classification" and len(dataset) == 6366
    assert dataset.extra["attribute"] == "age group"

    report = fairness_demo(seed=0)
    assert report["n_test"] == 1592 and report["n_train"] == 4774
    numbers = [
        report["test_accuracy"],
        report["demographic_parity_difference"],
        report["equal_opportunity_difference"],
    ]
    numbers += [g[k] for g in report["groups"] for k in ("accuracy", "selection_rate")]
    numbers += [g["true_positive_rate"] for g in report["groups"]]
    assert all(np.isfinite(numbers))
    # The model learns something: it beats always predicting "no affair".
    assert report["test_accuracy"] > 1 - data.y.mean() + 0.02
    rates = [g["selection_rate"] for g in report["groups"]]
    assert report["demographic_parity_difference"] == pytest.approx(
        max(rates) - min(rates)
    )
    assert 0 <= report["demographic_parity_difference"] <= 1
    assert sum(g["support"] for g in report["groups"]) == report["n_test"]
