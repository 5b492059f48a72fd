"""Real datasets that ship inside an installed dependency: no network, ever.

Every loader here reads files that are already on disk once kerasdl's dependencies are
installed (scikit-learn, statsmodels, the Python standard library), so they are the
defaults used by examples, tests and the CLI.
"""

from __future__ import annotations

import numpy as np

from kerasdl.data.dataset import Dataset

__all__ = [
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "load_iris",
    "load_sunspots",
    "load_text_corpus",
    "load_wine",
]


def load_digits() -> Dataset:
    """Load scikit-learn's 1,797 real 8x8 handwritten digits as images.

    Returns:
        A classification `Dataset`: `x` float32 `(1797, 8, 8, 1)` in [0, 1] (the raw
        grey levels 0..16 divided by 16), `y` int64 digit labels 0..9, `class_names`
        `"0"`..`"9"`.

    Example:

    ```python
    ds = load_digits()
    ds.x.shape  # (1797, 8, 8, 1)
    ```
    """
    from sklearn import datasets

    bunch = datasets.load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[..., None]
    return Dataset(
        x=x,
        y=bunch.target.astype(np.int64),
        name="digits",
        task="classification",
        description=(
            "Optical recognition of handwritten digits (UCI ML repository), as "
            "bundled with scikit-learn (sklearn.datasets.load_digits): 1,797 real 8x8 "
            "grey-level images of the digits 0-9 written by 43 people, about 180 per "
            "class. Pixel values 0..16 are scaled to [0, 1]. Small enough to train a "
            "CNN on a CPU in seconds; much easier than MNIST, so accuracies are not "
            "comparable."
        ),
        class_names=[str(i) for i in range(10)],
        extra={"source": "sklearn.datasets.load_digits"},
    )


def _tabular_classification(loader_name: str, name: str, description: str) -> Dataset:
    from sklearn import datasets

    bunch = getattr(datasets, loader_name)()
    return Dataset(
        x=np.asarray(bunch.data, dtype=np.float32),
        y=np.asarray(bunch.target, dtype=np.int64),
        name=name,
        task="classification",
        description=description,
        class_names=[str(c) for c in bunch.target_names],
        feature_names=[str(f) for f in bunch.feature_names],
        extra={"source": f"sklearn.datasets.{loader_name}"},
    )


def load_breast_cancer() -> Dataset:
    """Load the Wisconsin diagnostic breast cancer table bundled with scikit-learn.

    Returns:
        A classification `Dataset`: `x` float32 `(569, 30)` (unscaled measurements),
        `y` int64 with `class_names` `["malignant", "benign"]`, and `feature_names`.
    """
    return _tabular_classification(
        "load_breast_cancer",
        "breast_cancer",
        "Breast Cancer Wisconsin (Diagnostic), as bundled with scikit-learn "
        "(sklearn.datasets.load_breast_cancer): 569 real tumours, 30 numeric features "
        "computed from digitised images of fine-needle aspirates (radius, texture, "
        "concavity, ... as mean, standard error and worst value), labelled malignant "
        "(212) or benign (357). Features are on very different scales: standardise "
        "them (fitted on the training part only) before a neural network.",
    )


def load_wine() -> Dataset:
    """Load the UCI wine recognition table bundled with scikit-learn.

    Returns:
        A classification `Dataset`: `x` float32 `(178, 13)` (chemical analyses),
        `y` int64 over three cultivars, `class_names` and `feature_names`.
    """
    return _tabular_classification(
        "load_wine",
        "wine",
        "Wine recognition (UCI ML repository), as bundled with scikit-learn "
        "(sklearn.datasets.load_wine): chemical analyses (13 numeric features such as "
        "alcohol, flavanoids and proline) of 178 real wines grown in one region of "
        "Italy by three cultivars (59, 71 and 48 wines). Tiny and nearly linearly "
        "separable once standardised.",
    )


def load_iris() -> Dataset:
    """Load Fisher's iris table bundled with scikit-learn.

    Returns:
        A classification `Dataset`: `x` float32 `(150, 4)` (sepal and petal length
        and width in cm), `y` int64 over three species, `class_names` and
        `feature_names`.
    """
    return _tabular_classification(
        "load_iris",
        "iris",
        "Fisher's iris data (1936), as bundled with scikit-learn "
        "(sklearn.datasets.load_iris): sepal and petal length and width in cm of 150 "
        "real flowers, 50 of each species (setosa, versicolor, virginica). A classic "
        "first dataset; setosa is linearly separable from the other two.",
    )


def load_diabetes() -> Dataset:
    """Load the diabetes progression regression table bundled with scikit-learn.

    Returns:
        A regression `Dataset`: `x` float32 `(442, 10)` (as scikit-learn ships them:
        each column mean-centred and scaled to unit Euclidean norm), `y` float32 (a
        disease progression score one year after baseline, 25..346), `feature_names`.
    """
    from sklearn import datasets

    bunch = datasets.load_diabetes()
    return Dataset(
        x=np.asarray(bunch.data, dtype=np.float32),
        y=np.asarray(bunch.target, dtype=np.float32),
        name="diabetes",
        task="regression",
        description=(
            "Diabetes data of Efron et al. (2004, 'Least Angle Regression'), as "
            "bundled with scikit-learn (sklearn.datasets.load_diabetes): 10 baseline "
            "variables (age, sex, body mass index, blood pressure and six blood serum "
            "measurements) of 442 real patients, already mean-centred and scaled by "
            "scikit-learn, and a quantitative measure of disease progression one year "
            "later as the target (25..346). Small and noisy: a linear model is a "
            "strong baseline."
        ),
        feature_names=[str(f) for f in bunch.feature_names],
        extra={"source": "sklearn.datasets.load_diabetes"},
    )


def load_sunspots() -> Dataset:
    """Load the yearly sunspot numbers bundled with statsmodels (1700-2008).

    Returns:
        A forecasting `Dataset`: `x` float32 `(309,)` yearly mean sunspot activity,
        `y` `None`, and `extra["years"]` the int64 years 1700..2008.

    Raises:
        ValueError: statsmodels is not installed.
    """
    try:
        from statsmodels.datasets import sunspots
    except ImportError as exc:  # pragma: no cover - statsmodels is a dependency
        raise ValueError(
            "load_sunspots needs statsmodels, which ships the data; install it with "
            "`pip install statsmodels`."
        ) from exc
    frame = sunspots.load_pandas().data
    return Dataset(
        x=frame["SUNACTIVITY"].to_numpy(dtype=np.float32),
        y=None,
        name="sunspots",
        task="forecasting",
        description=(
            "Yearly sunspot numbers 1700-2008 (309 observations), as bundled with "
            "statsmodels (statsmodels.datasets.sunspots; originally from NOAA's "
            "National Geophysical Data Center). A real, univariate series with the "
            "roughly 11-year solar cycle; use the first years for training and the "
            "last ones for testing, never a random split."
        ),
        extra={
            "years": frame["YEAR"].to_numpy().astype(np.int64),
            "source": "statsmodels.datasets.sunspots",
        },
    )


def load_text_corpus() -> Dataset:
    """Load an English corpus that ships with Python: the `help()` topic texts.

    The documents are the values of the standard library's `pydoc_data.topics.topics`
    dict (the text `help("for")`, `help("assert")`, ... print), one document per
    topic, sorted by topic key.

    Returns:
        A text `Dataset`: `x` a `(n_documents,)` object array of `str`, `y` `None`,
        and
        `extra["titles"]` the topic keys, index-aligned with `x`.

    Raises:
        ValueError: this Python build does not ship `pydoc_data` (some Linux
            distributions split it into a separate package).
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # pragma: no cover - part of CPython's stdlib
        raise ValueError(
            "load_text_corpus needs the standard library module pydoc_data, which this "
            "Python build does not ship; install your distribution's full Python "
            "package (e.g. python3-doc / libpython3-stdlib) or pass your own text to "
            "kerasdl.data.load_text_file."
        ) from exc
    titles = sorted(topics)
    docs = np.array([topics[t] for t in titles], dtype=object)
    n_chars = int(sum(len(d) for d in docs))
    return Dataset(
        x=docs,
        y=None,
        name="text_corpus",
        task="text",
        description=(
            "The Python language reference help topics, as shipped with CPython's "
            "standard library (pydoc_data.topics.topics, the text behind help('for') "
            f"and friends): {len(docs)} English documents, about {n_chars:,} "
            "characters in all, one per topic, sorted by topic name. Real technical "
            "prose with code snippets; small next to web corpora, so a language model "
            "trained on it will overfit quickly."
        ),
        extra={"titles": titles, "source": "pydoc_data.topics.topics"},
    )
