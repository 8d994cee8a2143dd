"""Figures for files, without pyplot.

:func:`subplots` is ``matplotlib.pyplot.subplots`` for charts that go straight to a PNG file: a
plain :class:`~matplotlib.figure.Figure` on the Agg canvas. It draws the same pixels, but skips
pyplot's import and its figure manager (nothing to close afterwards: the figure is freed like
any object), and it leaves the caller's matplotlib backend alone (``matplotlib.use("Agg")``
would switch a notebook's).
"""

from __future__ import annotations


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None, **kwargs):
    """``(figure, axes)`` as ``pyplot.subplots(nrows, ncols, figsize=figsize, **kwargs)`` gives."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kwargs)
