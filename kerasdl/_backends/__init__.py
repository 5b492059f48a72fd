"""Per-backend implementations behind `kerasdl.backend` (imported only from there).

This package's `__init__` imports no Keras: it holds `SUPPORTED_BACKENDS`, the one
list of the backends the seam implements, which the `kerasdl` command offers as
`--backend` before Keras is imported.
"""

#: The Keras backends `kerasdl.backend` implements (the `kerasdl --backend` choices).
SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")
