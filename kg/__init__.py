"""kg: build an RDF knowledge graph of a film franchise from news articles.

The pipeline reads as a path through the package:
sources -> nlp -> extract -> resolve -> graph -> export (the files in build/), and
store (a graph file loaded) -> query / check / views / serve.
"""

from __future__ import annotations

__version__ = "0.1.0"
