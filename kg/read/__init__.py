"""Reading a build: the store, SPARQL queries, entity descriptions, paths, search, statistics and networkx."""
