"""The web server: SPARQL 1.1 Protocol endpoint, Linked Data pages and the explorer API."""
