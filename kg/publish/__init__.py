"""Publishing to other systems: exports, pushes to SPARQL servers, links to external datasets."""
