"""A real table to try the fairness report on: statsmodels' `fair` survey (affairs,
with occupation and age), a group column and a small classifier, in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kerasdl.evaluation.fairness import fairness_report

_FAIR_FEATURES = (
    "rate_marriage",
    "yrs_married",
    "children",
    "religious",
    "educ",
    "occupation",
    "occupation_husb",
)


_CATEGORICAL = ("occupation", "occupation_husb")


_FAIR_DESCRIPTION = (
    "Fair (1978) extramarital-affairs survey, as shipped with statsmodels "
    "(statsmodels.datasets.fair): 6,366 married women who answered a 1974 "
    "Redbook magazine questionnaire. Label: 1 if the respondent reported any time "
    "spent in extramarital affairs (affairs > 0; 32% of respondents), else 0. "
    "Features: self-rated marriage quality, years married, children, "
    "religiousness, education, own and husband's occupation (occupation codes are "
    "categories). Sensitive attribute: age group, 'under 30' (age codes 17.5, 22, "
    "27) vs '30 or older' (codes 32, 37, 42); the survey recorded age in brackets "
    "coded by their midpoints. Age is a real demographic attribute, protected from "
    "discrimination in many jurisdictions; it is left out of the features "
    "('fairness through unawareness'), but years married is a strong proxy for it "
    "(correlation 0.89). "
    "Honest caveats: this is a teaching substitute, not a real decision task; "
    "nobody should score people on this label. 'Selection' here just means "
    "'predicted positive'. The respondents are self-selected magazine readers, all "
    "women, so sex or race cannot be studied and nothing generalises to a "
    "population."
)


@dataclass
class FairnessData:
    """Features, label and sensitive attribute of a fairness demonstration.

    Attributes:
        x: Features, `(n, d)` float32 (the sensitive attribute is not among them).
        y: Labels, `(n,)` int64 (1 = positive).
        sensitive: Group code of each sample, `(n,)` int64, indexing `group_names`.
        group_names: Names of the groups.
        attribute: What the sensitive attribute is (e.g. `"age group"`).
        feature_names: Names of the columns of `x`.
        categorical: Names of the columns of `x` that are category codes.
        class_names: Names of the labels.
        name: Short name of the data.
        description: What the data is, where it comes from, and its caveats.
    """

    x: np.ndarray
    y: np.ndarray
    sensitive: np.ndarray
    group_names: list[str]
    attribute: str
    feature_names: list[str]
    categorical: list[str]
    class_names: list[str]
    name: str
    description: str
    extra: dict = field(default_factory=dict)

    def to_dataset(self):
        """The data as a `kerasdl.data.Dataset` (the sensitive attribute, group
        names and attribute in `extra`), for `kerasdl.training` or `compare`."""
        from kerasdl.data import Dataset

        return Dataset(
            x=self.x,
            y=self.y,
            name=self.name,
            task="classification",
            description=self.description,
            class_names=list(self.class_names),
            feature_names=list(self.feature_names),
            extra={
                "sensitive": self.sensitive,
                "group_names": list(self.group_names),
                "attribute": self.attribute,
                **self.extra,
            },
        )


def load_fairness_demo() -> FairnessData:
    """The statsmodels `fair` survey with age group as the sensitive attribute.

    Offline: the data ships inside statsmodels. See `FairnessData.description`
    (printed by `fairness_demo`) for what the label and attribute are and why this
    is a teaching substitute for a real decision task.

    Returns:
        A `FairnessData`: 6,366 rows, 7 features, label "any affair", sensitive
        attribute age group (0 = "under 30", 1 = "30 or older").
    """
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    ages = frame["age"].to_numpy()
    return FairnessData(
        x=frame[list(_FAIR_FEATURES)].to_numpy(dtype="float32"),
        y=(frame["affairs"].to_numpy() > 0).astype("int64"),
        sensitive=(ages >= 30).astype("int64"),
        group_names=["under 30", "30 or older"],
        attribute="age group",
        feature_names=list(_FAIR_FEATURES),
        categorical=list(_CATEGORICAL),
        class_names=["no affair", "any affair"],
        name="fair_affairs",
        description=_FAIR_DESCRIPTION,
        extra={"age_codes": sorted(float(a) for a in np.unique(ages))},
    )


def fairness_demo(seed: int = 0, test_size: float = 0.25) -> dict:
    """Trains a logistic regression on the `fair` survey and reports its fairness.

    Split: stratified by label, seeded; the pipeline one-hot encodes the occupation
    codes, standardises the other features (fitted on the training part only) and
    fits `LogisticRegression`; predictions use the 0.5 threshold.

    Args:
        seed: Seed of the split.
        test_size: Fraction of the rows held out for the report.

    Returns:
        The `fairness_report` of the held-out part, plus `dataset`, `description`,
        `model`, `seed`, `n_train`, `n_test` and `test_accuracy`.

    Example:

    ```python
    report = fairness_demo(seed=0)
    print(format_fairness(report))
    ```
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if not isinstance(test_size, float) or not 0.0 < test_size < 1.0:
        raise ValueError(
            f"`test_size` must be a float in (0, 1); received {test_size!r}."
        )
    data = load_fairness_demo()
    categorical = [data.feature_names.index(c) for c in data.categorical]
    numeric = [i for i in range(len(data.feature_names)) if i not in categorical]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("numbers", StandardScaler(), numeric),
            ]
        ),
        LogisticRegression(max_iter=1000),
    )
    x_train, x_test, y_train, y_test, _, s_test = train_test_split(
        data.x,
        data.y,
        data.sensitive,
        test_size=test_size,
        stratify=data.y,
        random_state=seed,
    )
    model.fit(x_train, y_train)
    report = fairness_report(
        y_test,
        model.predict(x_test),
        s_test,
        positive_label=1,
        group_names=data.group_names,
        attribute=data.attribute,
    )
    report.update(
        dataset=data.name,
        description=data.description,
        model=(
            "logistic regression (one-hot occupations, standardised other features; "
            f"threshold 0.5), trained on a stratified {1 - test_size:.0%} split"
        ),
        seed=seed,
        n_train=len(y_train),
        n_test=len(y_test),
        test_accuracy=report["overall"]["accuracy"],
    )
    return report
