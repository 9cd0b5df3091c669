"""Building the graph: curated data -> records -> evidence -> rdfize -> validate -> reason -> build/."""
