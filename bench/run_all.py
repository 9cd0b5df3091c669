"""`make bench`: generate the graphs (10k, 100k, 1M quads) and time loads and queries on them."""
from bench import generate, queries

if __name__ == "__main__":
    generate.main([])
    raise SystemExit(queries.main([]))
