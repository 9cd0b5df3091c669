"""Minimal reproduction: ORDER BY over mixed literals panics inside Oxigraph's sort (pyoxigraph 0.5).

Run: python repro.py   (exit status 134 = SIGABRT from the panic; 0 = fixed)
"""
from pathlib import Path

import pyoxigraph

print("pyoxigraph", pyoxigraph.__version__)
store = pyoxigraph.Store()
store.load(path=str(Path(__file__).with_name("data.nt")), format=pyoxigraph.RdfFormat.N_TRIPLES)
print(len(store), "triples")
rows = list(store.query("SELECT * WHERE { ?s ?p ?o } ORDER BY DESC(?o)"))
print("no panic:", len(rows), "rows")
