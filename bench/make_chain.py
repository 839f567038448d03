#!/usr/bin/env python3
"""Writes a project whose graph is one long chain: Input -> N x Linear -> Classifier.

    bench/make_chain.py 50000 > /tmp/chain.particle.json
    time build/bin/particle check /tmp/chain.particle.json

Validation must stay linear in the graph's size (docs/BENCHMARKS.md)."""
import json
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
nodes = [{"id": "input", "type": "Input"}]
edges = []
previous = "input"
for i in range(n):
    node = "l%d" % i
    nodes.append({"id": node, "type": "Linear", "params": {"out": 4}})
    edges.append({"from": previous, "to": node})
    previous = node
nodes.append({"id": "head", "type": "Classifier"})
edges.append({"from": previous, "to": "head"})
project = {
    "format": "particle-studio", "version": 1, "name": "chain-%d" % n,
    "dataset": {"kind": "synthetic", "parts": 2, "part_dim": 4, "classes": 2, "samples": 100},
    "nodes": nodes, "edges": edges,
}
json.dump(project, sys.stdout, indent=1)
