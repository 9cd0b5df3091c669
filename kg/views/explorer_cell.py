"""The explorer of a graph view in a notebook cell: an iframe whose ``srcdoc`` holds the whole
self-contained explorer page (kg.views.viz), so it runs with no server and no network.

Kept apart from :mod:`kg.views.notebook` (tables and DataFrames of query results), which the
query module reaches: the explorer itself runs queries, and the two must not import in a circle.
"""
from __future__ import annotations

from pathlib import Path

from kg.views.notebook import iframe


class GraphView:
    """A view of the graph as the explorer page: shown in a notebook cell, saved as a file, or
    handed to pyvis.

    Attributes:
        payload: the explorer's embedded payload (spec/explorer-api.md).
    """

    def __init__(self, payload: dict, *, lang: str = "zh", height: str = "720px", explorer=None):
        self.payload = payload
        self.lang = lang
        self.height = height
        self._explorer = explorer

    @property
    def html(self) -> str:
        """The self-contained explorer page (every script inlined)."""
        from kg.views.viz import render_html

        return render_html(self.payload, lang=self.lang)

    def save(self, path) -> Path:
        """Write the page as UTF-8 (atomically); returns the path."""
        from kg.views.viz import write_html

        return write_html(self.html, Path(path))

    def _repr_html_(self) -> str:
        return iframe(self.html, height=self.height)

    def __repr__(self) -> str:
        meta = self.payload.get("meta", {})
        return f"<GraphView {meta.get('title', '')!r}: {len(self.payload['nodes'])} nodes, {len(self.payload['edges'])} edges>"


def explore(store, *, focus: str | None = None, depth: int = 1, classes: list[str] | str | None = None,
            query: str | None = None, lang: str = "zh", height: str = "720px") -> GraphView:
    """The explorer of the whole graph or a view (class, focus and depth, query) for a notebook."""
    from kg.views.viz import Explorer

    if isinstance(classes, str):
        classes = [classes]
    ex = Explorer(store)
    return GraphView(ex.payload(classes=classes, focus=focus, depth=depth, query=query, lang=lang),
                     lang=lang, height=height, explorer=ex)
