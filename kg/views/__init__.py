"""Views of the graph for people: the interactive explorer."""
