"""kerasdl.plotting: figures are PNG files next to the JSON of their numbers."""

from kerasdl import plotting

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_save_figure_creates_parent_folders(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = plotting.save_figure(fig, tmp_path / "a" / "b" / "line.png")
    assert path == tmp_path / "a" / "b" / "line.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert not plt.fignum_exists(fig.number)  # closed
